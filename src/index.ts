// Public API of exai.
export {
  type ChatCompletions,
  type ClientOptions,
  createClient,
  type ExaiClient,
  toCompletion,
} from './client.js';
export {
  type Config,
  type LoadConfigOptions,
  loadConfig,
  type ProviderConfig,
  providerForModel,
  type Timeouts,
} from './config/index.js';
export {
  AbortError,
  APIError,
  ConfigError,
  ConnectionError,
  type ErrorCode,
  ExaiError,
  StreamError,
  type StreamFault,
  TimeoutError,
  type TimeoutKind,
  UsageError,
} from './errors.js';
export { createLogger, type Logger, type LogLevel } from './log.js';
export { findModel, MODELS, type ModelInfo, modelsOf } from './providers/catalog.js';
export { createTransport, type Transport } from './providers/transport.js';
export { Aggregator } from './streaming/aggregator.js';
export { createSseDecoder, type SseDecoder } from './streaming/sse.js';
export { stitch } from './streaming/stitch.js';
export { ChatStream } from './streaming/stream.js';
export type * from './types.js';
export { VERSION } from './version.js';
