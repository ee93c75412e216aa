// createClient: the openai-node-shaped entry point (`client.chat.completions.create`).
import {
  baseURLOf,
  type Config,
  KEY_VAR,
  loadConfig,
  type ProviderConfig,
  providerForModel,
  type Timeouts,
} from './config/index.js';
import { ConfigError, UsageError } from './errors.js';
import { createLogger, type Logger, registerSecret } from './log.js';
import { findRetired } from './providers/catalog.js';
import { PROVIDERS } from './providers/index.js';
import { sharedTransport, type Transport } from './providers/transport.js';
import { checkRequest } from './request-checks.js';
import type { BackoffOptions } from './streaming/retry.js';
import { ChatRun, type RunOptions, type RunSetup, runChat } from './streaming/runner.js';
import { ChatStream } from './streaming/stream.js';
import type {
  ChatCompletion,
  ChatCompletionCreateParams,
  ChatResult,
  ProviderName,
  RequestOptions,
} from './types.js';
import { VERSION } from './version.js';

/** One string for every request (a template per call would be a new string each time). */
const USER_AGENT = `exai/${VERSION} node/${process.versions.node}`;

/** Read once, when the client is made: changing the object later does not change the client. */
export interface ClientOptions {
  apiKey?: string;
  /** A named endpoint: GLM `global`, `china`, `coding`, `coding-china`; Kimi `global`, `china`. */
  endpoint?: string;
  /** Any OpenAI-compatible base URL; overrides `endpoint`. */
  baseURL?: string;
  defaultModel?: string;
  /** Overrides `GLM_STREAM_ENABLED` / `KIMI_STREAM_ENABLED`. */
  streamEnabled?: boolean;
  timeouts?: Partial<Timeouts>;
  maxRetries?: number;
  /** Continuations in a row that bring no new text before the call gives up (default 2); 0: none. */
  maxRecoveries?: number;
  maxOutputBytes?: number;
  backoff?: BackoffOptions;
  /** A loaded configuration; by default the environment (and `.env`) is read. */
  config?: Config;
  transport?: Transport;
  logger?: Logger;
}

export interface ChatCompletions {
  create(
    params: ChatCompletionCreateParams & { stream: true },
    options?: RequestOptions,
  ): Promise<ChatStream>;
  create(
    params: ChatCompletionCreateParams & { stream?: false },
    options?: RequestOptions,
  ): Promise<ChatCompletion>;
  create(params: ChatCompletionCreateParams, options?: RequestOptions): Promise<ChatStream | ChatCompletion>;
}

export interface ExaiClient {
  readonly provider: ProviderName;
  readonly config: ProviderConfig;
  readonly chat: { completions: ChatCompletions };
}

/** Retired ids already warned about in this process (once each is enough). */
const warnedRetired = new Set<string>();

export function createClient(provider: ProviderName, options: ClientOptions = {}): ExaiClient {
  if (provider !== 'glm' && provider !== 'kimi') {
    throw new UsageError(`unknown provider "${String(provider)}": use "glm" or "kimi"`);
  }
  const config = options.config ?? loadConfig();
  const base = config[provider];
  const providerConfig: ProviderConfig = {
    ...base,
    apiKey: options.apiKey ?? base.apiKey,
    endpoint: options.endpoint?.trim().toLowerCase() ?? base.endpoint,
    baseURL: (
      options.baseURL ??
      (options.endpoint !== undefined ? baseURLOf(provider, options.endpoint) : base.baseURL)
    ).replace(/\/+$/, ''),
    defaultModel: options.defaultModel ?? base.defaultModel,
    streamEnabled: options.streamEnabled ?? base.streamEnabled,
  };
  registerSecret(providerConfig.apiKey);
  const timeouts = { ...config.timeouts, ...options.timeouts };
  const logger = options.logger ?? createLogger(config.logLevel);
  // What every call of this client shares: its runs hold it as one reference.
  const setup: RunSetup = {
    provider: PROVIDERS[provider],
    config: providerConfig,
    transport: options.transport ?? sharedTransport(),
    timeouts,
    maxRetries: options.maxRetries ?? config.maxRetries,
    maxRecoveries: options.maxRecoveries ?? 2,
    maxOutputBytes: options.maxOutputBytes ?? config.maxOutputBytes,
    ...(options.backoff ? { backoff: options.backoff } : {}),
    userAgent: USER_AGENT,
    logger,
  };

  const prepare = (params: ChatCompletionCreateParams, signal: AbortSignal | undefined): RunOptions => {
    if (!providerConfig.apiKey) {
      throw new ConfigError(
        `${KEY_VAR[provider]} is not set: export it or put it in .env to use ${provider}`,
      );
    }
    const model = params.model ?? providerConfig.defaultModel;
    if (providerForModel(model) !== provider) {
      throw new UsageError(`model "${model}" belongs to ${providerForModel(model)}, not ${provider}`);
    }
    checkRequest(params, model);
    PROVIDERS[provider].checkParams(params, model);
    const retired = findRetired(model);
    if (retired && !warnedRetired.has(retired.id)) {
      warnedRetired.add(retired.id);
      logger.warn('model reported retired; the request is sent as asked', {
        model,
        retired: retired.retired,
        use: retired.use,
      });
    }
    return { setup, params, model, stream: params.stream === true && providerConfig.streamEnabled, signal };
  };

  async function create(params: ChatCompletionCreateParams, request: RequestOptions = {}) {
    if (params.stream === true) return createStream(params, request);
    const { result, id, created } = await runChat(prepare(params, request.signal));
    return toCompletion(result, id, created);
  }

  /** Resolves once the provider has answered (or the run ended), like openai-node's `create`. */
  function createStream(params: ChatCompletionCreateParams, request: RequestOptions): Promise<ChatStream> {
    const run = prepare(params, request.signal);
    // The stream is the run's sink, and the run is what the stream's abort() and signal act on:
    // abort() and the caller's signal cancel it, and so does the total deadline (the signal's
    // reason says which).
    const stream = new ChatStream();
    // Filled in place, not copied.
    run.sink = stream;
    const chatRun = new ChatRun(run);
    stream.follow(chatRun);
    const opened = stream.opened();
    // Started, not executed: the stream is the run's sink and needs no promise of the run's end.
    chatRun.start();
    return opened;
  }

  return { provider, config: providerConfig, chat: { completions: { create } as ChatCompletions } };
}

/** A ChatResult dressed as an OpenAI `chat.completion`, so either kind of reader works. */
export function toCompletion(
  result: ChatResult,
  id = '',
  created = Math.floor(Date.now() / 1000),
): ChatCompletion {
  return {
    id,
    object: 'chat.completion',
    created: created || Math.floor(Date.now() / 1000),
    model: result.metadata.model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: result.content,
          ...(result.reasoning ? { reasoning_content: result.reasoning } : {}),
          ...(result.toolCalls.length ? { tool_calls: result.toolCalls } : {}),
        },
        finish_reason: result.finishReason,
      },
    ],
    ...result,
  };
}
