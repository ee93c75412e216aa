// The stream runner: attempts, retries with backoff, fallback to non-streaming, mid-stream recovery
// by continuation, output limit and deadlines. It hands every chunk on and returns one ChatResult.
import { performance } from 'node:perf_hooks';
import type { ProviderConfig, Timeouts } from '../config/index.js';
import { AbortError, APIError, abortReason, ExaiError, isRetryable, TimeoutError } from '../errors.js';
import { type Logger, redact } from '../log.js';
import type { Completion, Provider } from '../providers/provider.js';
import type { Transport } from '../providers/transport.js';
import type { ChatCompletionChunk, ChatCompletionCreateParams, ChatMessage, ChatResult } from '../types.js';
import { Aggregator } from './aggregator.js';
import { type AttemptContext, AttemptError, completeOnce, streamOnce } from './attempt.js';
import { OutputLimit } from './limit.js';
import { type BackoffOptions, backoffDelay, sleep } from './retry.js';
import { EchoFilter } from './stitch.js';

export interface RunOptions {
  provider: Provider;
  config: ProviderConfig;
  transport: Transport;
  params: ChatCompletionCreateParams;
  model: string;
  /** Stream (true) or make one non-streaming request (false). */
  stream: boolean;
  timeouts: Timeouts;
  maxRetries: number;
  /** Continuation requests after a stream broke mid-answer. */
  maxRecoveries: number;
  maxOutputBytes: number;
  backoff?: BackoffOptions;
  userAgent: string;
  logger: Logger;
  /** The caller's cancel signal. */
  signal?: AbortSignal | undefined;
  /**
   * Instead of `signal`: a controller the caller aborts to cancel, used as the run's own (one
   * controller and no listener less per request). The run aborts it at the total deadline.
   */
  controller?: AbortController;
  /** Each chunk as it arrives (already stitched and limited). */
  onChunk(chunk: ChatCompletionChunk): void;
  /** Backpressure from the consumer: true while it is behind. */
  needsDrain?(): boolean;
  whenDrained?(): Promise<void>;
  /** The first attempt that was answered with 200. */
  onOpen?(): void;
}

export interface RunOutcome {
  result: ChatResult;
  /** The provider's response id and creation time (unix seconds), for `chat.completion` objects. */
  id: string;
  created: number;
  /** Why the answer is partial (also summarised in `result.error`). */
  failure?: unknown;
}

/** Resolves with the result, partial or whole; rejects only when nothing at all was delivered. */
export async function runChat(o: RunOptions): Promise<RunOutcome> {
  const started = performance.now();
  const agg = new Aggregator();
  const meta = { chunks: 0, retries: 0, ttftMs: null as number | null, streamed: o.stream, recovered: false };
  let fallback: ChatResult['metadata']['fallback'] = null;
  const limit = new OutputLimit(
    o.maxOutputBytes,
    () => Buffer.byteLength(agg.content) + Buffer.byteLength(agg.reasoning),
  );

  // One signal for the whole run: the caller's cancel or the total deadline, whichever comes first.
  const run = o.controller ?? new AbortController();
  // Keep the caller's reason when it is ours (e.g. "the MCP server is shutting down").
  const callerReason = (reason: unknown) => (reason instanceof AbortError ? reason : new AbortError());
  const onCallerAbort = () => run.abort(callerReason(o.signal?.reason));
  if (run.signal.aborted) throw callerReason(run.signal.reason);
  if (o.signal?.aborted) throw callerReason(o.signal.reason);
  o.signal?.addEventListener('abort', onCallerAbort, { once: true });
  const total = setTimeout(
    () => run.abort(new TimeoutError(o.provider.name, 'total', o.timeouts.totalMs)),
    o.timeouts.totalMs,
  );

  const deliver = (chunk: ChatCompletionChunk, received = true): boolean => {
    if (received) meta.chunks++;
    limit.apply(chunk);
    const delta = chunk.choices[0]?.delta;
    if (agg.add(chunk) && meta.ttftMs === null && (delta?.content || delta?.reasoning_content)) {
      meta.ttftMs = performance.now() - started;
    }
    o.onChunk(chunk);
    return !limit.reached;
  };

  const ctx: AttemptContext = {
    provider: o.provider,
    config: o.config,
    transport: o.transport,
    timeouts: o.timeouts,
    userAgent: o.userAgent,
    signal: run.signal,
    deliver: (chunk) => deliver(chunk),
    needsDrain: o.needsDrain ?? (() => false),
    whenDrained: o.whenDrained ?? (() => Promise.resolve()),
    onOpen: once(o.onOpen),
  };

  // A non-streamed answer reaches iterating consumers as one chunk, so they never miss it.
  const deliverCompletion = (c: Completion, filter?: EchoFilter) => {
    const chunk: ChatCompletionChunk = {
      id: c.id,
      object: 'chat.completion.chunk',
      created: c.created,
      model: c.model || o.model,
      choices: [
        {
          index: 0,
          delta: {
            role: 'assistant',
            content: filter ? filter.push(c.content) + filter.flush() : c.content,
            ...(c.reasoning ? { reasoning_content: c.reasoning } : {}),
            ...(c.toolCalls.length ? { tool_calls: c.toolCalls.map((t, index) => ({ index, ...t })) } : {}),
          },
          finish_reason: c.finishReason ?? 'stop',
        },
      ],
      usage: c.usage,
    };
    deliver(chunk, false);
  };

  /** Runs `attempt` and retries it while it fails before delivering any token. */
  const withRetries = async <T>(attempt: () => Promise<T>): Promise<T> => {
    for (let n = 0; ; n++) {
      try {
        return await attempt();
      } catch (raw) {
        const delivered = raw instanceof AttemptError ? raw.tokens > 0 : false;
        const error = raw instanceof AttemptError ? raw.error : raw;
        if (delivered || run.signal.aborted || !isRetryable(error) || n >= o.maxRetries) throw raw;
        const wait = backoffDelay(n, error instanceof APIError ? error.retryAfterMs : undefined, o.backoff);
        o.logger.warn('retrying', {
          provider: o.provider.name,
          retry: n + 1,
          waitMs: wait,
          reason: describe(error),
        });
        meta.retries++;
        await sleep(wait, run.signal);
      }
    }
  };

  const nonStream = async (messages: ChatMessage[]) => {
    const body = o.provider.buildBody({ ...o.params, messages }, o.model, false);
    deliverCompletion(await withRetries(() => completeOnce(ctx, body)));
  };

  let failure: unknown;
  try {
    if (!o.stream) await nonStream(o.params.messages);
    else await streamWithRecovery();
  } catch (error) {
    failure = error instanceof AttemptError ? error.error : error;
    // The run's signal may carry a caller's own reason (a ChatStream's controller): ours or AbortError.
    if (run.signal.aborted && !(failure instanceof ExaiError)) failure = abortReason(run.signal);
  } finally {
    clearTimeout(total);
    o.signal?.removeEventListener('abort', onCallerAbort);
  }

  async function streamWithRecovery(): Promise<void> {
    let messages = o.params.messages;
    // The partial answer a continuation must extend; undefined for a fresh request.
    let partial: string | undefined;
    let filter: EchoFilter | undefined;
    const transform = (chunk: ChatCompletionChunk) => {
      const choice = chunk.choices[0];
      if (!filter || !choice) return;
      const text = filter.push(choice.delta.content ?? '') + (choice.finish_reason ? filter.flush() : '');
      if (choice.delta.content || text) choice.delta.content = text;
    };
    // Each attempt gets a fresh filter: text held back by a failed attempt must not leak into the next.
    const attempt = (body: Record<string, unknown>) => () => {
      filter = partial === undefined ? undefined : new EchoFilter(partial);
      return streamOnce(ctx, body, filter && transform);
    };
    for (let recoveries = 0; ; recoveries++) {
      const body = o.provider.buildBody({ ...o.params, messages }, o.model, true);
      try {
        const outcome = await withRetries(attempt(body));
        if (outcome.kind === 'not-streamed') {
          fallback = { reason: 'the provider answered without streaming', afterChunks: meta.chunks };
          meta.streamed = false;
          deliverCompletion(outcome.completion, filter);
        }
        if (recoveries > 0) meta.recovered = true;
        return;
      } catch (raw) {
        const error = raw instanceof AttemptError ? raw.error : raw;
        if (run.signal.aborted) throw raw;
        const answered = agg.contentLength > 0 || agg.hasToolCalls;
        if (agg.contentLength === 0 && agg.reasoningLength === 0 && !agg.hasToolCalls) {
          // Nothing shown yet: give up on streaming and ask once more without it.
          if (error instanceof APIError && !error.retryable) throw error;
          o.logger.warn('falling back to a non-streaming request', { reason: describe(error) });
          fallback = { reason: describe(error), afterChunks: meta.chunks };
          meta.streamed = false;
          await nonStream(o.params.messages);
          return;
        }
        // Tool-call arguments cannot be continued reliably; neither can a non-retryable refusal.
        if (
          agg.hasToolCalls ||
          recoveries >= o.maxRecoveries ||
          (error instanceof APIError && !error.retryable)
        ) {
          throw raw;
        }
        o.logger.warn('stream broke mid-answer; asking the provider to continue', {
          reason: describe(error),
          contentChars: agg.contentLength,
        });
        // Only reasoning so far: ask again; otherwise continue from the partial answer.
        partial = answered ? agg.content : undefined;
        messages =
          partial === undefined ? o.params.messages : o.provider.continuation(o.params.messages, partial);
      }
    }
  }

  const result: ChatResult = {
    content: agg.content,
    reasoning: agg.reasoning,
    toolCalls: agg.toolCalls,
    usage: agg.usage,
    finishReason: agg.finishReason,
    metadata: {
      provider: o.provider.name,
      model: agg.model || o.model,
      streamed: meta.streamed,
      chunks: meta.chunks,
      ttftMs: meta.ttftMs === null ? null : round(meta.ttftMs),
      durationMs: round(performance.now() - started),
      retries: meta.retries,
      fallback,
      recovered: meta.recovered,
      interrupted: false,
    },
  };
  if (limit.reached) {
    result.metadata.interrupted = true;
    result.finishReason = 'length';
    result.error = {
      code: 'output_limit',
      message: `output cut at EXAI_MAX_OUTPUT_BYTES (${o.maxOutputBytes} bytes)`,
    };
  }
  if (failure !== undefined) {
    const delivered = agg.contentLength > 0 || agg.reasoningLength > 0 || agg.hasToolCalls;
    if (!delivered) throw failure;
    result.metadata.interrupted = true;
    result.metadata.recovered = false;
    result.error = {
      code: failure instanceof ExaiError ? failure.code : 'stream',
      message: `answer is partial: ${describe(failure)}`,
    };
    return { result, failure, id: agg.id, created: agg.created };
  }
  return { result, id: agg.id, created: agg.created };
}

function describe(error: unknown): string {
  // Fallback reasons and log fields quote provider words, which can echo a key.
  return redact(error instanceof Error ? error.message : String(error));
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

function once(fn: (() => void) | undefined): () => void {
  let called = false;
  return () => {
    if (called) return;
    called = true;
    fn?.();
  };
}
