// Loads configuration from the environment (and a `.env` file; the real environment wins) and routes models.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { ConfigError, UsageError } from '../errors.js';
import { registerSecret } from '../log.js';
import type { ProviderName } from '../types.js';
import { type Env, parseEnv as parseEnvVars } from './schema.js';

export interface ProviderConfig {
  name: ProviderName;
  apiKey: string | undefined;
  baseURL: string;
  defaultModel: string;
  streamEnabled: boolean;
}

export interface Timeouts {
  firstTokenMs: number;
  idleMs: number;
  totalMs: number;
}

export interface Config {
  glm: ProviderConfig;
  kimi: ProviderConfig;
  timeouts: Timeouts;
  maxRetries: number;
  maxOutputBytes: number;
  logLevel: Env['EXAI_LOG_LEVEL'];
  progressIntervalMs: number;
  /** MCP: provider silence after which a heartbeat progress notification goes out. */
  heartbeatMs: number;
  httpToken: string | undefined;
  /** `exai serve --http`: how long SIGTERM lets in-flight calls finish before aborting them. */
  drainTimeoutMs: number;
  /** Extra `Host` names `exai serve --http` accepts (a reverse proxy's or a Service's name). */
  httpAllowedHosts: string[];
  /** MCP `chat`: longest wait before the answer so far is returned with a resume id; 0 = no limit. */
  callBudgetMs: number;
  /** MCP store: `memory` or a redis:// URL. */
  store: string;
  /** MCP store: how long finished answers and idle conversations are kept. */
  storeTtlS: number;
}

export interface LoadConfigOptions {
  /** Defaults to `process.env`. */
  env?: Record<string, string | undefined>;
  /** Directory whose `.env` is read; defaults to `process.cwd()`. `false` skips the file. */
  dotenvDir?: string | false;
}

/** Reads `.env` in `dir`; a malformed file is a config error rather than a silent skip. */
export function readDotenv(dir: string): Record<string, string> {
  const file = join(dir, '.env');
  if (!existsSync(file)) return {};
  try {
    return parseEnv(readFileSync(file, 'utf8')) as Record<string, string>;
  } catch (error) {
    throw new ConfigError(`cannot read ${file}: ${(error as Error).message}`);
  }
}

export function loadConfig(options: LoadConfigOptions = {}): Config {
  const real = options.env ?? process.env;
  const dir = options.dotenvDir === undefined ? process.cwd() : options.dotenvDir;
  const merged: Record<string, string | undefined> = { ...(dir === false ? {} : readDotenv(dir)) };
  for (const [k, v] of Object.entries(real)) if (v !== undefined) merged[k] = v;

  const parsed = parseEnvVars(merged);
  if (!parsed.success) throw new ConfigError(`invalid configuration: ${parsed.issues.join('; ')}`);
  const e = parsed.data;
  registerSecret(e.GLM_API_KEY);
  registerSecret(e.KIMI_API_KEY);
  registerSecret(e.EXAI_HTTP_TOKEN);
  if (e.EXAI_STORE !== 'memory')
    registerSecret(decodeURIComponent(new URL(e.EXAI_STORE).password) || undefined);
  return {
    glm: {
      name: 'glm',
      apiKey: e.GLM_API_KEY,
      baseURL: e.GLM_BASE_URL,
      defaultModel: e.GLM_DEFAULT_MODEL ?? 'glm-4.6',
      streamEnabled: e.GLM_STREAM_ENABLED,
    },
    kimi: {
      name: 'kimi',
      apiKey: e.KIMI_API_KEY,
      baseURL: e.KIMI_BASE_URL,
      defaultModel: e.KIMI_DEFAULT_MODEL ?? 'kimi-k2-0905-preview',
      streamEnabled: e.KIMI_STREAM_ENABLED,
    },
    timeouts: {
      firstTokenMs: e.EXAI_FIRST_TOKEN_TIMEOUT_MS,
      idleMs: e.EXAI_IDLE_TIMEOUT_MS,
      totalMs: e.EXAI_TOTAL_TIMEOUT_MS,
    },
    maxRetries: e.EXAI_MAX_RETRIES,
    maxOutputBytes: e.EXAI_MAX_OUTPUT_BYTES,
    logLevel: e.EXAI_LOG_LEVEL,
    progressIntervalMs: e.EXAI_PROGRESS_INTERVAL_MS,
    heartbeatMs: e.EXAI_HEARTBEAT_MS,
    httpToken: e.EXAI_HTTP_TOKEN,
    drainTimeoutMs: e.EXAI_DRAIN_TIMEOUT_MS,
    httpAllowedHosts: e.EXAI_HTTP_ALLOWED_HOSTS,
    callBudgetMs: e.EXAI_CALL_BUDGET_MS,
    store: e.EXAI_STORE,
    storeTtlS: e.EXAI_STORE_TTL_S,
  };
}

/** `glm-*` → GLM; `kimi-*` and `moonshot-*` → Kimi; anything else is a usage error. */
export function providerForModel(model: string): ProviderName {
  const m = model.trim().toLowerCase();
  if (m.startsWith('glm-')) return 'glm';
  if (m.startsWith('kimi-') || m.startsWith('moonshot-')) return 'kimi';
  throw new UsageError(
    `cannot tell the provider of model "${model}": GLM models start with "glm-", Kimi models with "kimi-" or "moonshot-"`,
  );
}

/** The environment variable that holds each provider's key. */
export const KEY_VAR: Record<ProviderName, string> = { glm: 'GLM_API_KEY', kimi: 'KIMI_API_KEY' };

/**
 * Which provider answers: the model's, else `provider`, else the one with a key (GLM first), else
 * GLM (whose missing key is then reported). A model of the other provider is a usage error.
 */
export function chooseProvider(config: Config, provider?: ProviderName, model?: string): ProviderName {
  if (model !== undefined) {
    const owner = providerForModel(model);
    if (provider !== undefined && provider !== owner) {
      throw new UsageError(`model "${model}" belongs to ${owner}, not ${provider}`);
    }
    return owner;
  }
  if (provider !== undefined) return provider;
  if (config.glm.apiKey) return 'glm';
  if (config.kimi.apiKey) return 'kimi';
  return 'glm';
}
