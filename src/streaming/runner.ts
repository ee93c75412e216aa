// The stream runner: one ChatRun object per call holds attempts, retries with backoff, fallback to
// non-streaming, mid-stream recovery by continuation and the output limit; its life from start to
// end (signal, total deadline, the hand-off between requests) is RunLifecycle's (lifecycle.ts). It
// hands every chunk to its sink and ends in one ChatResult. The attempts call back into it (it is
// their AttemptContext), so a streaming run allocates no closures per chunk or stream (a backoff
// and a non-streaming request make their own, while they last).
import { performance } from 'node:perf_hooks';
import type { ProviderConfig, Timeouts } from '../config/index.js';
import { APIError, TimeoutError } from '../errors.js';
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
import { RunLifecycle } from './lifecycle.js';
import { OutputLimit } from './limit.js';
import { type AttemptContext, completeOnce, type StreamOutcome } from './request.js';
import { completionChunk, markCut, markPartial, type RunMeta, runResult } from './result.js';
import { backoffDelay } from './retry.js';
import type { RunOptions, RunOutcome, RunSettled, RunSetup, RunSink } from './run-types.js';
import { EchoFilter } from './stitch.js';

export type { RunOptions, RunOutcome, RunSettled, RunSetup, RunSink } from './run-types.js';

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

export class ChatRun extends RunLifecycle implements AttemptContext {
  /** The client's part of the options, shared by its runs (one field, not ten, per open stream). */
  private readonly setup: RunSetup;
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
  // What the run needs of its call's options (copied: the options object is not kept).
  private readonly params: ChatCompletionCreateParams;
  private readonly model: string;

  constructor(o: RunOptions) {
    const { setup } = o;
    super(setup.timeouts.totalMs, o.signal, o.sink ?? NO_SINK, o.sink !== undefined);
    this.setup = setup;
    this.streaming = o.stream;
    this.limit = new OutputLimit(setup.maxOutputBytes, this.agg);
    this.meta = { chunks: 0, requests: 0, ttftMs: null, streamed: o.stream, recovered: false };
    this.params = o.params;
    this.model = o.model;
  }

  // AttemptContext: the client's, read through the shared setup.
  get provider(): Provider {
    return this.setup.provider;
  }

  get config(): ProviderConfig {
    return this.setup.config;
  }

  get transport(): Transport {
    return this.setup.transport;
  }

  get timeouts(): Timeouts {
    return this.setup.timeouts;
  }

  get userAgent(): string {
    return this.setup.userAgent;
  }

  /** Sends the next request; its body is not kept while the answer streams. */
  protected request(): void {
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

  override requestOver(done: StreamOutcome | Completion | undefined, error?: unknown): void {
    this.attempt = undefined;
    super.requestOver(done, error);
  }

  protected retry(): void {
    // A fresh attempt reasons again: its reasoning replaces the abandoned one's.
    this.replacesReasoning = this.next === 'fresh';
    this.request();
  }

  protected accept(done: StreamOutcome | Completion): void {
    if ('kind' in done) this.streamed(done);
    else this.completed(done);
    if (this.broken) this.meta.recovered = true;
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
  protected afterFailure(error: unknown, tokens: number): number | undefined {
    const { agg } = this;
    const { logger } = this.setup;
    if (this.aborted) throw error;
    if (tokens > 0) this.broken = true;
    const halfCall = agg.hasToolCalls || error instanceof ToolCallsWithoutCall;
    const refused = this.streaming && error instanceof APIError && error.streamRefused;
    this.budget ??= new RequestBudget(this.setup.maxRetries, this.setup.maxRecoveries);
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
      this.setup.backoff,
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

  protected outcome(failure: unknown): RunOutcome {
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

  protected deadlineError(): unknown {
    return new TimeoutError(this.provider.name, 'total', this.timeouts.totalMs);
  }

  protected cancelled(): void {
    this.attempt?.cancel();
  }

  /** The content aggregated so far (what the stream's reader may not have read yet included). */
  contentSoFar(): string {
    return this.agg.content;
  }
}
