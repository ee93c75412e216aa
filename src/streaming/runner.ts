// The stream runner: one ChatRun object per call holds attempts, retries with backoff, fallback to
// non-streaming, mid-stream recovery by continuation, output limit and deadlines. It hands every
// chunk to its sink and ends in one ChatResult. The attempts call back into it (it is their
// AttemptContext), so a run allocates no closures per chunk, attempt or stream.
import { performance } from 'node:perf_hooks';
import type { ProviderConfig, Timeouts } from '../config/index.js';
import { AbortError, APIError, abortReasonOf, ExaiError, TimeoutError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Completion, Provider } from '../providers/provider.js';
import type { Transport } from '../providers/transport.js';
import type { ChatCompletionChunk, ChatCompletionCreateParams, ChatResult } from '../types.js';
import { Aggregator } from './aggregator.js';
import { StreamAttempt } from './attempt.js';
import { RequestBudget } from './budget.js';
import {
  checkCompletion,
  describe,
  incompleteToolCall,
  ToolCallsWithoutCall,
  toolCallsWithoutCall,
} from './integrity.js';
import { OutputLimit } from './limit.js';
import { type AttemptContext, AttemptError, completeOnce, type StreamOutcome } from './request.js';
import { completionChunk, markCut, markPartial, type RunMeta, runResult } from './result.js';
import { type BackoffOptions, backoffDelay, sleep } from './retry.js';
import type { RunOptions, RunOutcome, RunSettled, RunSink } from './run-types.js';
import { EchoFilter } from './stitch.js';

export type { RunOptions, RunOutcome, RunSettled, RunSink } from './run-types.js';

/** Resolves with the result, partial or whole; rejects only when nothing at all was delivered. */
export function runChat(o: RunOptions): Promise<RunOutcome> {
  return new ChatRun(o).execute().then(unwrap);
}

function unwrap(settled: RunSettled): RunOutcome | Promise<never> {
  return 'error' in settled ? Promise.reject(settled.error) : settled.outcome;
}

const NO_SINK: RunSink = {
  onChunk() {},
  needsDrain: () => false,
  whenDrained: () => Promise.resolve(),
  onOpen() {},
  onEnd() {},
};

/** Keeps the caller's reason when it is ours (e.g. "the MCP server is shutting down"). */
const callerReason = (reason: unknown) => (reason instanceof AbortError ? reason : new AbortError());

const ONCE = { once: true } as const;

export class ChatRun implements AttemptContext {
  readonly provider: Provider;
  readonly config: ProviderConfig;
  readonly transport: Transport;
  readonly timeouts: Timeouts;
  readonly userAgent: string;
  /** Cancelled by the caller or the total deadline, whichever came first; `abortedWith` says which. */
  aborted = false;
  abortedWith: unknown;
  /** Made on first use: most runs never wait on a signal (a backoff, a consumer behind, `stream.signal`). */
  private controller: AbortController | undefined;
  private readonly sink: RunSink;
  private readonly started = performance.now();
  private readonly agg = new Aggregator();
  private readonly limit: OutputLimit;
  private readonly meta: RunMeta;
  private fallback: ChatResult['metadata']['fallback'] = null;
  /** This request showed new answer text (progress). */
  private attemptText = false;
  /** This request's reasoning replaces the reasoning kept so far (a fresh one after an abandoned one). */
  private replacesReasoning = false;
  /** The call has shown answer text beyond whitespace (GLM's leading "\n" is not an answer). */
  private answered = false;
  private opened = false;
  private streaming: boolean;
  private next: 'fresh' | 'continue' = 'fresh';
  /** A stream broke after delivering something: a later success completes it (`recovered`). */
  private broken = false;
  /** Drops a continuation's echo of what was shown; only while one is in flight. */
  private filter: EchoFilter | undefined;
  private budget: RequestBudget | undefined;
  /** The streaming attempt in flight: an abort closes its request directly (no signal listener). */
  private attempt: StreamAttempt | undefined;
  /** AttemptContext: the total deadline (a `performance.now()` time). */
  readonly deadlineAt: number;
  /**
   * The total deadline's timer, armed only while no streaming attempt watches the deadline (a
   * backoff, a non-streaming request): an open stream has one timer, its attempt's watchdog.
   */
  private total: NodeJS.Timeout | undefined;
  /** The caller's signal, listened to (with the run itself as the listener) until the call ends. */
  private caller: AbortSignal | undefined;
  private finished = false;
  /** `execute()`'s promise, when the caller asked for one. */
  private whenSettled: ((settled: RunSettled) => void) | undefined;
  // What the run needs of its options (copied: the options object is not kept).
  private readonly params: ChatCompletionCreateParams;
  private readonly model: string;
  private readonly logger: Logger;
  private readonly backoff: BackoffOptions | undefined;
  private readonly maxRetries: number;
  private readonly maxRecoveries: number;

  constructor(o: RunOptions) {
    this.provider = o.provider;
    this.config = o.config;
    this.transport = o.transport;
    this.timeouts = o.timeouts;
    this.userAgent = o.userAgent;
    this.sink = o.sink ?? NO_SINK;
    this.streaming = o.stream;
    this.limit = new OutputLimit(o.maxOutputBytes, this.agg);
    this.meta = { chunks: 0, requests: 0, ttftMs: null, streamed: o.stream, recovered: false };
    this.deadlineAt = this.started + o.timeouts.totalMs;
    this.caller = o.signal;
    this.params = o.params;
    this.model = o.model;
    this.logger = o.logger;
    this.backoff = o.backoff;
    this.maxRetries = o.maxRetries;
    this.maxRecoveries = o.maxRecoveries;
  }

  /** Runs the call to its end; never rejects (the sink and the settled value say how it ended). */
  execute(): Promise<RunSettled> {
    return new Promise((resolve) => {
      this.whenSettled = resolve;
      this.start();
    });
  }

  /**
   * Starts the call; the sink's `onEnd` says how it ended. Nothing waits in between: each request
   * reports back to `requestOver`, so an open stream holds no suspended function and no promise.
   */
  start(): void {
    const { caller } = this;
    if (this.aborted) this.finish(callerReason(this.abortedWith));
    else if (caller?.aborted) this.finish(callerReason(caller.reason));
    else {
      caller?.addEventListener('abort', this, ONCE);
      this.request();
    }
  }

  /**
   * EventListener: the caller's signal fired. A signal the caller sees (a ChatStream's) carries
   * the caller's own reason.
   */
  handleEvent(): void {
    const reason = this.caller?.reason;
    this.abort(this.sink !== NO_SINK ? reason : callerReason(reason));
  }

  /** Sends the next request; its body is not kept while the answer streams. */
  private request(): void {
    try {
      const body = this.nextBody();
      if (this.streaming) {
        this.watchDeadline(false);
        this.attempt = new StreamAttempt(this);
        this.attempt.run(body);
      } else {
        this.watchDeadline(true);
        completeOnce(this, body).then(
          (completion) => this.requestOver(completion),
          (error: unknown) => this.requestOver(undefined, error),
        );
      }
    } catch (error) {
      this.requestOver(undefined, error);
    }
  }

  /** AttemptContext: a request is over, answered (`done`) or failed (`error`). */
  requestOver(done: StreamOutcome | Completion | undefined, error?: unknown): void {
    this.attempt = undefined;
    let failure = error;
    if (done !== undefined) {
      try {
        this.settled(done);
        if (this.broken) this.meta.recovered = true;
        this.finish(undefined);
        return;
      } catch (raw) {
        failure = raw;
      }
    }
    // Until the next streaming attempt, the run watches its deadline itself.
    this.watchDeadline(true);
    const tokens = failure instanceof AttemptError ? failure.tokens : 0;
    if (failure instanceof AttemptError) failure = failure.error;
    let wait: number | undefined;
    try {
      wait = this.afterFailure(failure, tokens);
    } catch (why) {
      this.stop(why);
      return;
    }
    if (wait === undefined) this.again();
    else
      sleep(wait, this.signal).then(
        () => this.again(),
        (why: unknown) => this.stop(why),
      );
  }

  /** Arms (or, when a streaming attempt takes it over, clears) the run's own total-deadline timer. */
  private watchDeadline(own: boolean): void {
    if (!own || this.finished) {
      clearTimeout(this.total);
      this.total = undefined;
    } else if (this.total === undefined) {
      this.total = setTimeout(totalExpired, Math.max(1, this.deadlineAt - performance.now()), this);
    }
  }

  private again(): void {
    // A fresh attempt reasons again: its reasoning replaces the abandoned one's.
    this.replacesReasoning = this.next === 'fresh';
    this.request();
  }

  /** The budget said stop, or the run was cancelled: the call ends with why. */
  private stop(why: unknown): void {
    let failure = why instanceof AttemptError ? why.error : why;
    // The run's reason may be a caller's own (a ChatStream's): ours or AbortError.
    if (this.aborted && !(failure instanceof ExaiError)) failure = abortReasonOf(this.abortedWith);
    this.finish(failure);
  }

  /** The call is over: its deadline and listener go, and the sink learns how it ended. */
  private finish(failure: unknown): void {
    if (this.finished) return;
    this.finished = true;
    this.watchDeadline(false);
    this.caller?.removeEventListener('abort', this);
    this.caller = undefined;
    let settled: RunSettled;
    try {
      settled = { outcome: this.outcome(failure) };
    } catch (error) {
      settled = { error };
    }
    this.sink.onEnd(settled);
    this.whenSettled?.(settled);
    this.whenSettled = undefined;
  }

  private settled(done: StreamOutcome | Completion): void {
    if ('kind' in done) this.streamed(done);
    else this.completed(done);
  }

  /** The next request's body: the question, or a continuation of what was shown. */
  private nextBody(): Record<string, unknown> {
    const { params, agg } = this;
    // What was shown is never shown twice: a continuation drops an echo of it, and so does a
    // fresh request after whitespace only (GLM's leading "\n" comes again).
    const shown = agg.contentLength > 0 ? agg.content : '';
    this.filter = shown ? new EchoFilter(shown) : undefined;
    const messages =
      this.next === 'continue' ? this.provider.continuation(params.messages, shown) : params.messages;
    this.attemptText = false;
    this.meta.requests++;
    return this.provider.buildBody(
      messages === params.messages ? params : { ...params, messages },
      this.model,
      this.streaming,
    );
  }

  private streamed(outcome: StreamOutcome): void {
    if (outcome.kind === 'not-streamed') {
      this.fallback = { reason: 'the provider answered without streaming', afterChunks: this.meta.chunks };
      this.meta.streamed = false;
      this.completed(outcome.completion);
    } else if (
      outcome.kind === 'complete' &&
      outcome.finishReason === 'tool_calls' &&
      !this.agg.hasToolCalls
    ) {
      throw toolCallsWithoutCall(this.provider.name);
    }
  }

  /** A whole completion reaches iterating consumers as one chunk, so they never miss it. */
  private completed(c: Completion): void {
    checkCompletion(this.provider.name, c);
    const filter = this.filter;
    const content = filter ? filter.push(c.content) + filter.flush() : c.content;
    this.deliver(completionChunk(c, content, this.model), false);
  }

  /**
   * After a failed request: throws when the budget says stop; otherwise sets up the next request
   * and returns how long to wait before it (undefined: at once).
   */
  private afterFailure(error: unknown, tokens: number): number | undefined {
    const { agg, logger } = this;
    if (this.aborted) throw error;
    if (tokens > 0) this.broken = true;
    const halfCall = agg.hasToolCalls || error instanceof ToolCallsWithoutCall;
    const refused = this.streaming && error instanceof APIError && error.streamRefused;
    this.budget ??= new RequestBudget(this.maxRetries, this.maxRecoveries);
    const decision = this.budget.next({
      progress: this.attemptText,
      answered: this.answered,
      streaming: this.streaming,
      fatal: error instanceof APIError && !error.retryable && !refused,
      streamRefused: refused,
      toolCallBroken: halfCall,
    });
    // Tool calls are whole or absent: a broken stream's calls leave the result.
    const dropped = agg.dropToolCalls();
    if (decision.kind === 'stop') {
      if (halfCall && this.answered) throw incompleteToolCall(this.provider.name, dropped, error);
      throw error;
    }
    if (decision.kind === 'fallback') {
      const reason =
        error instanceof APIError && error.streamRefused
          ? `the provider does not stream this request: "${error.providerMessage ?? error.message}"`
          : describe(error);
      logger.warn('falling back to a non-streaming request', { reason });
      this.fallback = { reason, afterChunks: this.meta.chunks };
      this.meta.streamed = false;
      this.streaming = false;
      this.next = 'fresh';
      return undefined;
    }
    this.next = decision.kind;
    if (decision.backoff === undefined) {
      logger.warn('stream broke after new text; asking the provider to continue', {
        reason: describe(error),
        contentChars: agg.contentLength,
      });
      return undefined;
    }
    const wait = backoffDelay(
      decision.backoff,
      error instanceof APIError ? error.retryAfterMs : undefined,
      this.backoff,
    );
    logger.warn(this.next === 'fresh' ? 'retrying' : 'retrying the continuation', {
      provider: this.provider.name,
      request: this.meta.requests + 1,
      waitMs: wait,
      reason: describe(error),
    });
    return wait;
  }

  /** AttemptContext: a continuation's echo of the shown answer is dropped before it counts. */
  transform(chunk: ChatCompletionChunk): void {
    const filter = this.filter;
    const choice = chunk.choices[0];
    if (!filter || !choice) return;
    const text = filter.push(choice.delta.content ?? '') + (choice.finish_reason ? filter.flush() : '');
    if (choice.delta.content || text) choice.delta.content = text;
  }

  /** AttemptContext: one chunk in; false once the output limit is reached. */
  deliver(chunk: ChatCompletionChunk, received = true): boolean {
    const { meta, agg, limit } = this;
    if (received) meta.chunks++;
    const delta = chunk.choices[0]?.delta;
    if (this.replacesReasoning && delta?.reasoning_content) {
      this.replacesReasoning = false;
      agg.restartReasoning();
    }
    limit.apply(chunk);
    if (agg.add(chunk) && meta.ttftMs === null && (delta?.content || delta?.reasoning_content)) {
      meta.ttftMs = performance.now() - this.started;
    }
    if (!this.attemptText && delta?.content && /\S/.test(delta.content)) {
      this.attemptText = true;
      this.answered = true;
    }
    this.sink.onChunk(chunk);
    return !limit.reached;
  }

  needsDrain(): boolean {
    return this.sink.needsDrain();
  }

  whenDrained(): Promise<void> {
    return this.sink.whenDrained();
  }

  onOpen(): void {
    if (this.opened) return;
    this.opened = true;
    this.sink.onOpen();
  }

  /** The whole or partial result; throws when nothing at all was delivered. */
  private outcome(failure: unknown): RunOutcome {
    const { agg, meta } = this;
    const result = runResult(agg, meta, {
      provider: this.provider.name,
      model: this.model,
      durationMs: performance.now() - this.started,
      fallback: this.fallback,
    });
    if (this.limit.reached) markCut(result, this.limit.maxBytes);
    if (failure === undefined) return { result, id: agg.id, created: agg.created };
    if (failure instanceof APIError) failure.retried = meta.requests > 1;
    const delivered = agg.contentLength > 0 || agg.reasoningLength > 0 || agg.hasToolCalls;
    if (!delivered) throw failure;
    markPartial(result, failure);
    return { result, failure, id: agg.id, created: agg.created };
  }

  /**
   * Cancels the run: its signal aborts with `reason` (what waits on it, a backoff or a consumer
   * behind, ends), and the attempt in flight closes its request.
   */
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.abortedWith = reason;
    this.controller?.abort(reason);
    this.attempt?.cancel();
  }

  /** The content aggregated so far (what the stream's reader may not have read yet included). */
  contentSoFar(): string {
    return this.agg.content;
  }

  /** Aborts when the run is cancelled, with its reason. */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.abortedWith);
    }
    return this.controller.signal;
  }

  /** AttemptContext: the total deadline passed. */
  deadlinePassed(): void {
    this.abort(new TimeoutError(this.provider.name, 'total', this.timeouts.totalMs));
  }

  /** @internal The total deadline's timer (a plain function: no closure per run). */
  static totalExpired(run: ChatRun): void {
    run.total = undefined;
    run.deadlinePassed();
  }
}

const totalExpired = ChatRun.totalExpired;
