// What `exai chat` and `exai chat -i` set up before asking: configuration (or the built-in
// emulator in its place), the provider, the client and its logger.
import { createClient, type ExaiClient } from '../client.js';
import { type Config, chooseProvider, KEY_VAR, loadConfig } from '../config/index.js';
import { ConfigError } from '../errors.js';
import type { ProviderName } from '../types.js';
import { cliLogger, logFormat } from './log-sink.js';
import type { Screen } from './terminal.js';

export interface ChatCommandOptions {
  provider?: ProviderName;
  model?: string;
  system?: string;
  temperature?: number;
  maxTokens?: number;
  /** false with `--no-stream`. */
  stream: boolean;
  showReasoning?: boolean;
  json?: boolean;
  emulator?: boolean;
  interactive?: boolean;
}

export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

/** Any non-empty key works with the emulator; this one cannot collide with words in messages. */
const EMULATOR_KEY = 'exai-emulator-key';

export interface ChatSetup {
  config: Config;
  /** Stops the built-in emulator, when `--emulator` started one. */
  close(): Promise<void>;
  /** A client for the model (or provider) asked for; throws a one-line error when its key is missing. */
  client(model?: string, provider?: ProviderName): ExaiClient;
}

export async function setUpChat(opts: ChatCommandOptions, screen: Screen): Promise<ChatSetup> {
  // Configuration errors come first: nothing is started for a command that cannot run.
  const format = logFormat(screen.stderr);
  let config = loadConfig();
  let close = async () => {};
  if (opts.emulator) {
    const { startEmulator } = await import('../emulator/index.js');
    // Paced like a real model (about 40 tokens/s) so a newcomer sees tokens arrive. In a session
    // the emulator says how many messages it received, which shows the conversation is kept.
    const emu = await startEmulator({
      paceMs: 25,
      firstChunkDelayMs: 300,
      words: opts.interactive ? 40 : 90,
      echoMessages: opts.interactive === true,
    });
    close = () => emu.close();
    config = {
      ...config,
      glm: { ...config.glm, apiKey: EMULATOR_KEY, baseURL: emu.baseURL('glm') },
      kimi: { ...config.kimi, apiKey: EMULATOR_KEY, baseURL: emu.baseURL('kimi') },
    };
  }
  const logger = cliLogger(config.logLevel, format, screen);
  const client = (model?: string, provider?: ProviderName): ExaiClient => {
    const name = chooseProvider(config, provider, model);
    if (!config[name].apiKey) {
      throw new ConfigError(
        `${KEY_VAR[name]} is not set: export it or put it in .env to use ${name}, ` +
          'or try exai without a key: exai chat --emulator "your question"',
      );
    }
    return createClient(name, {
      config,
      logger,
      ...(opts.stream ? {} : { streamEnabled: false }),
    });
  };
  return { config, close, client };
}

export const EMULATOR_FOOTER =
  'This answer came from the built-in emulator. To ask a real model, set GLM_API_KEY (or KIMI_API_KEY)\n' +
  'and run the same command without --emulator.\n';
