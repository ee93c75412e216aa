// Shared test wiring: a client pointed at an in-process emulator, with its own connection pool.

import type { Emulator } from '../../src/emulator/index.js';
import {
  type ClientOptions,
  createClient,
  createTransport,
  loadConfig,
  type ProviderName,
} from '../../src/index.js';

export const TEST_KEY = 'sk-test-SECRET-0123456789';

export function testEnv(emu: Emulator, extra: Record<string, string> = {}): Record<string, string> {
  return {
    GLM_API_KEY: TEST_KEY,
    KIMI_API_KEY: TEST_KEY,
    GLM_BASE_URL: emu.baseURL('glm'),
    KIMI_BASE_URL: emu.baseURL('kimi'),
    // The defaults the suites' expected answers are computed for: a GLM model that reasons and a plain
    // Kimi one (to the emulator an id is only a seed; the catalog's own defaults are tested on their own).
    GLM_DEFAULT_MODEL: 'glm-4.6',
    KIMI_DEFAULT_MODEL: 'kimi-k2-0905-preview',
    EXAI_LOG_LEVEL: 'silent',
    ...extra,
  };
}

/** A client on the emulator; fast backoff so retry tests do not sleep for seconds. */
export function testClient(
  emu: Emulator,
  provider: ProviderName,
  options: ClientOptions & { env?: Record<string, string> } = {},
) {
  const transport = options.transport ?? createTransport();
  const config = loadConfig({ env: testEnv(emu, options.env), dotenvDir: false });
  const client = createClient(provider, { backoff: { baseMs: 5, maxMs: 50 }, ...options, config, transport });
  return { client, transport };
}

export const user = (content: string) => [{ role: 'user' as const, content }];
