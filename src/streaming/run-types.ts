// What a run is given and what it ends in: its options, its sink, its outcome.
import type { ProviderConfig, Timeouts } from '../config/index.js';
import type { Logger } from '../log.js';
import type { Provider } from '../providers/provider.js';
import type { Transport } from '../providers/transport.js';
import type { ChatCompletionChunk, ChatCompletionCreateParams, ChatResult } from '../types.js';
import type { BackoffOptions } from './retry.js';

/** Where a run's chunks go, and who is told of its backpressure and opening. */
export interface RunSink {
  /** Each chunk as it arrives (already stitched and limited). */
  onChunk(chunk: ChatCompletionChunk): void;
  /** Backpressure from the consumer: true while it is behind. */
  needsDrain(): boolean;
  whenDrained(): Promise<void>;
  /** The first attempt that was answered with 200. */
  onOpen(): void;
  /** The run ended: with its outcome, or with why it delivered nothing. */
  onEnd(settled: RunSettled): void;
}

/** What every run of one client shares: made once per client, and held by each run as one reference. */
export interface RunSetup {
  provider: Provider;
  config: ProviderConfig;
  transport: Transport;
  timeouts: Timeouts;
  /** The call's budget of requests that deliver nothing new (DESIGN §4). */
  maxRetries: number;
  /** Continuations in a row that deliver nothing new (DESIGN §4: two). */
  maxRecoveries: number;
  maxOutputBytes: number;
  backoff?: BackoffOptions;
  userAgent: string;
  logger: Logger;
}

export interface RunOptions {
  setup: RunSetup;
  params: ChatCompletionCreateParams;
  model: string;
  /** Stream (true) or make one non-streaming request (false). */
  stream: boolean;
  /** The caller's cancel signal. */
  signal?: AbortSignal | undefined;
  /**
   * Receives the chunks; none when only the result is wanted. A run with a sink shows its signal
   * (a ChatStream's `signal`), which then carries the caller's own abort reason.
   */
  sink?: RunSink;
}

export interface RunOutcome {
  result: ChatResult;
  /** The provider's response id and creation time (unix seconds), for `chat.completion` objects. */
  id: string;
  created: number;
  /** Why the answer is partial (also summarised in `result.error`). */
  failure?: unknown;
}

/** How a run ended: its outcome (the result, partial or whole), or the error when nothing was delivered. */
export type RunSettled = { outcome: RunOutcome } | { error: unknown };
