// The stream runner: attempts, retries with backoff, fallback to non-streaming, mid-stream recovery
// by continuation, output limit and deadlines. It hands every chunk on and returns one ChatResult.
import { performance } from 'node:perf_hooks';
import type { ProviderConfig, Timeouts } from '../config/index.js';
import { AbortError, APIError, abortReason, ExaiError, TimeoutError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Completion, Provider } from '../providers/provider.js';
import type { Transport } from '../providers/transport.js';
import type { ChatCompletionChunk, ChatCompletionCreateParams, ChatResult } from '../types.js';
import { Aggregator } from './aggregator.js';
import { type AttemptContext, AttemptError, completeOnce, streamOnce } from './attempt.js';
import { RequestBudget } from './budget.js';
import {
  checkCompletion,
  describe,
  incompleteToolCall,
  ToolCallsWithoutCall,
  toolCallsWithoutCall,
} from './integrity.js';
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
  /** The call's budget of requests that deliver nothing new (DESIGN §4). */
  maxRetries: number;
  /** Continuations in a row that deliver nothing new (DESIGN §4: two). */
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
  const meta = {
    chunks: 0,
    requests: 0,
    ttftMs: null as number | null,
    streamed: o.stream,
    recovered: false,
  };
  let fallback: ChatResult['metadata']['fallback'] = null;
  const limit = new OutputLimit(
    o.maxOutputBytes,
    () => Buffer.byteLength(agg.content) + Buffer.byteLength(agg.reasoning),
  );
  // Per request: whether it showed new answer text (progress), and whether its reasoning replaces
  // the reasoning kept so far (a fresh attempt after one that was abandoned).
  const attempt = { text: false, replacesReasoning: false };
  // The call has shown answer text beyond whitespace (GLM's leading "\n" is not an answer).
  let answered = false;

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
    const delta = chunk.choices[0]?.delta;
    if (attempt.replacesReasoning && delta?.reasoning_content) {
      attempt.replacesReasoning = false;
      agg.restartReasoning();
    }
    limit.apply(chunk);
    if (agg.add(chunk) && meta.ttftMs === null && (delta?.content || delta?.reasoning_content)) {
      meta.ttftMs = performance.now() - started;
    }
    if (!attempt.text && delta?.content && /\S/.test(delta.content)) {
      attempt.text = true;
      answered = true;
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
            ...(c.toolCalls.length ? { tool_calls: c.toolCalls.map((t, index) => ({ ...t, index })) } : {}),
          },
          finish_reason: c.finishReason ?? 'stop',
          ...(c.providerFinishReason ? { provider_finish_reason: c.providerFinishReason } : {}),
        },
      ],
      usage: c.usage,
    };
    deliver(chunk, false);
  };

  let failure: unknown;
  try {
    await requests();
  } catch (error) {
    failure = error instanceof AttemptError ? error.error : error;
    // The run's signal may carry a caller's own reason (a ChatStream's controller): ours or AbortError.
    if (run.signal.aborted && !(failure instanceof ExaiError)) failure = abortReason(run.signal);
  } finally {
    clearTimeout(total);
    o.signal?.removeEventListener('abort', onCallerAbort);
  }

  /** Makes requests until one completes or the budget says stop (then throws why). */
  async function requests(): Promise<void> {
    const budget = new RequestBudget(o.maxRetries, o.maxRecoveries);
    let streaming = o.stream;
    let next: 'fresh' | 'continue' = 'fresh';
    // A stream broke after delivering something: a later success completes it (`recovered`).
    let broken = false;
    let filter: EchoFilter | undefined;
    const transform = (chunk: ChatCompletionChunk) => {
      const choice = chunk.choices[0];
      if (!filter || !choice) return;
      const text = filter.push(choice.delta.content ?? '') + (choice.finish_reason ? filter.flush() : '');
      if (choice.delta.content || text) choice.delta.content = text;
    };
    for (;;) {
      // What was shown is never shown twice: a continuation drops an echo of it, and so does a
      // fresh request after whitespace only (GLM's leading "\n" comes again).
      const shown = agg.contentLength > 0 ? agg.content : '';
      filter = shown ? new EchoFilter(shown) : undefined;
      const messages =
        next === 'continue' ? o.provider.continuation(o.params.messages, shown) : o.params.messages;
      const body = o.provider.buildBody({ ...o.params, messages }, o.model, streaming);
      attempt.text = false;
      meta.requests++;
      let tokens = 0;
      let error: unknown;
      try {
        if (streaming) {
          const outcome = await streamOnce(ctx, body, filter && transform);
          if (outcome.kind === 'not-streamed') {
            fallback = { reason: 'the provider answered without streaming', afterChunks: meta.chunks };
            meta.streamed = false;
            checkCompletion(o.provider.name, outcome.completion);
            deliverCompletion(outcome.completion, filter);
          } else if (
            outcome.kind === 'complete' &&
            outcome.finishReason === 'tool_calls' &&
            !agg.hasToolCalls
          ) {
            throw toolCallsWithoutCall(o.provider.name);
          }
        } else {
          const completion = await completeOnce(ctx, body);
          checkCompletion(o.provider.name, completion);
          deliverCompletion(completion, filter);
        }
        if (broken) meta.recovered = true;
        return;
      } catch (raw) {
        error = raw instanceof AttemptError ? raw.error : raw;
        if (raw instanceof AttemptError) tokens = raw.tokens;
      }
      if (run.signal.aborted) throw error;
      if (tokens > 0) broken = true;
      const halfCall = agg.hasToolCalls || error instanceof ToolCallsWithoutCall;
      const refused = streaming && error instanceof APIError && error.streamRefused;
      const decision = budget.next({
        progress: attempt.text,
        answered,
        streaming,
        fatal: error instanceof APIError && !error.retryable && !refused,
        streamRefused: refused,
        toolCallBroken: halfCall,
      });
      // Tool calls are whole or absent: a broken stream's calls leave the result.
      const dropped = agg.dropToolCalls();
      if (decision.kind === 'stop') {
        if (halfCall && answered) throw incompleteToolCall(o.provider.name, dropped, error);
        throw error;
      }
      if (decision.kind === 'fallback') {
        const reason =
          error instanceof APIError && error.streamRefused
            ? `the provider does not stream this request: "${error.providerMessage ?? error.message}"`
            : describe(error);
        o.logger.warn('falling back to a non-streaming request', { reason });
        fallback = { reason, afterChunks: meta.chunks };
        meta.streamed = false;
        streaming = false;
        next = 'fresh';
      } else {
        next = decision.kind;
        if (decision.backoff !== undefined) {
          const wait = backoffDelay(
            decision.backoff,
            error instanceof APIError ? error.retryAfterMs : undefined,
            o.backoff,
          );
          o.logger.warn(next === 'fresh' ? 'retrying' : 'retrying the continuation', {
            provider: o.provider.name,
            request: meta.requests + 1,
            waitMs: wait,
            reason: describe(error),
          });
          await sleep(wait, run.signal);
        } else {
          o.logger.warn('stream broke after new text; asking the provider to continue', {
            reason: describe(error),
            contentChars: agg.contentLength,
          });
        }
      }
      // A fresh attempt reasons again: its reasoning replaces the abandoned one's.
      attempt.replacesReasoning = next === 'fresh';
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
      retries: Math.max(0, meta.requests - 1),
      requests: meta.requests,
      fallback,
      recovered: meta.recovered,
      interrupted: false,
      ...(agg.providerFinishReason ? { providerFinishReason: agg.providerFinishReason } : {}),
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
    if (failure instanceof APIError) failure.retried = meta.requests > 1;
    const delivered = agg.contentLength > 0 || agg.reasoningLength > 0 || agg.hasToolCalls;
    if (!delivered) throw failure;
    result.metadata.interrupted = true;
    result.metadata.recovered = false;
    // The stream did not finish: a finish reason it may have sent (tool_calls, no call) is void.
    result.finishReason = null;
    result.error = {
      code: failure instanceof ExaiError ? failure.code : 'stream',
      message: `answer is partial: ${describe(failure)}`,
    };
    return { result, failure, id: agg.id, created: agg.created };
  }
  return { result, id: agg.id, created: agg.created };
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
