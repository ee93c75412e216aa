// One streaming attempt against a provider: SSE with first-token and idle watchdog. Every token is
// handed to the run's `deliver` as soon as it is decoded.
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { AbortError, ExaiError, StreamError, TimeoutError } from '../errors.js';
import type { ChunkState } from '../providers/normalize.js';
import { errorFromFrame, isErrorFrame, type Provider } from '../providers/provider.js';
import {
  type HttpResponse,
  headersInBody,
  type RequestHandle,
  responseHeader,
} from '../providers/transport.js';
import type { ChatCompletionChunk } from '../types.js';
import { BodyReader, type BodySink, readText, untilDrainedOrAborted } from './body.js';
import {
  type AttemptContext,
  AttemptError,
  closedReason,
  mapNetworkError,
  open,
  parseCompletion,
  type StreamOutcome,
} from './request.js';
import { Decoder, type SseCallbacks } from './sse.js';
import { type Expiry, Watchdog, type WatchdogOwner } from './watchdog.js';

/**
 * One streaming request, as one object: it is the body's sink, the SSE decoder's callbacks, the
 * watchdog's owner and the transport's request handle, so an attempt allocates no closures of its
 * own. It tells the run how it ended through `requestOver`.
 */
export class StreamAttempt implements BodySink, SseCallbacks, WatchdogOwner, RequestHandle, ChunkState {
  private received = 0;
  private finishReason: string | null = null;
  private stop = false;
  private fault: unknown;
  private tokens = 0;
  /**
   * The response's body, once it came (the response object itself is not kept), and its headers
   * unless they are the body's own (exai's transport, headers unread): a caller's transport may
   * give others.
   */
  private body: IncomingMessage | undefined;
  private headers: IncomingHttpHeaders | undefined;
  private request: { destroy(reason?: Error): unknown } | undefined;
  /** Why we closed this attempt (a deadline), when we did. */
  closedWith: unknown;
  /** Ended: its end is reported (or about to be), once. */
  private over = false;
  private controller: AbortController | undefined;
  /** How it ended, kept for the hop that reports it to the run. */
  private outcome: StreamOutcome | undefined;
  private error: AttemptError | undefined;
  /** ChunkState: how the provider's normalizer numbers this stream's tool calls (normalize.ts). */
  nextTool = 0;
  lastTool = -1;
  lastId = '';
  private readonly watchdog: Watchdog;
  /** Made once the request is on its way (see `run`): not on the way to it. */
  private decoder: Decoder | undefined;

  constructor(private readonly ctx: AttemptContext) {
    const { firstTokenMs, idleMs } = ctx.timeouts;
    this.watchdog = new Watchdog(firstTokenMs, idleMs, DONE_GRACE_MS, this);
  }

  /**
   * Sends `body` (not kept: the request outlives it) and reads the stream. The run's `requestOver`
   * is told how it ended, a microtask after it did (as a promise would): with the outcome when
   * the stream completed, with an AttemptError otherwise.
   */
  run(body: Record<string, unknown>): void {
    const { ctx } = this;
    if (ctx.aborted) {
      this.over = true;
      this.watchdog.stop();
      this.report(undefined, new AttemptError(ctx.abortedWith ?? new AbortError(), 0));
      return;
    }
    // A throw while opening (or in `opened`) ends the attempt as failed, never as an unhandled rejection.
    open(ctx, body, true, this)
      .then((res) => this.opened(res))
      .catch((error: unknown) => this.fail(error));
    // node writes the request in a tick it queued while `open` ran: the deadline's timer and the
    // SSE decoder are made a tick after that, while the provider works, not on the way to it (a
    // timer costs about 20 us in a process whose caches other work has cooled).
    process.nextTick(afterSend, this);
  }

  private report(outcome: StreamOutcome | undefined, error?: AttemptError): void {
    this.outcome = outcome;
    this.error = error;
    void Promise.resolve(this).then(reportOver);
  }

  /** RequestHandle: the transport's outgoing request, closed at once if the run or a deadline ended already. */
  attach(request: { destroy(reason?: Error): unknown }): void {
    this.request = request;
    if (this.ctx.aborted) request.destroy(this.ctx.abortedWith as Error);
    else if (this.closedWith !== undefined) request.destroy(this.closedWith as Error);
  }

  /**
   * The attempt's own signal, for a transport that reads it (a caller's own transport that does
   * not use the handle): aborted when the run is cancelled or a deadline of the attempt passes.
   * Made on first use; exai's transport closes through the handle and never asks for it.
   */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.ctx.aborted) this.controller.abort(this.ctx.abortedWith);
      else if (this.closedWith !== undefined) this.controller.abort(this.closedWith);
    }
    return this.controller.signal;
  }

  /** The run was cancelled: close the request, as a listener on its signal would. */
  cancel(): void {
    this.request?.destroy(this.ctx.abortedWith as Error);
    this.controller?.abort(this.ctx.abortedWith);
  }

  /** WatchdogOwner: the run's total deadline, which the watchdog watches while this attempt streams. */
  get deadlineAt(): number {
    return this.ctx.deadlineAt;
  }

  /** WatchdogOwner: a deadline passed. */
  expired(what: Expiry): void {
    // [DONE] came but the body never ended: close the connection ourselves.
    if (what === 'grace') {
      this.body?.destroy();
      return;
    }
    // The run's time is up: the run is cancelled, and with it this attempt.
    if (what === 'total') {
      this.ctx.deadlinePassed();
      return;
    }
    const ms = what === 'idle' ? this.ctx.timeouts.idleMs : this.ctx.timeouts.firstTokenMs;
    this.closedWith ??= new TimeoutError(this.ctx.provider.name, what, ms);
    this.request?.destroy(this.closedWith as Error);
    this.controller?.abort(this.closedWith);
  }

  private opened(res: HttpResponse): void {
    const { ctx } = this;
    this.body = res.body;
    // Node's body gives its headers again when asked (parsed then: for an error frame's request id).
    if (!headersInBody(res)) this.headers = res.headers;
    if (this.closedWith !== undefined) {
      this.fail(this.closedWith);
      return;
    }
    const type = responseHeader(res, 'content-type') ?? '';
    if (!type.includes('text/event-stream')) {
      // A gateway that ignores `stream: true` answers with the whole completion as JSON.
      if (type.includes('json')) {
        ctx.onOpen();
        readText(res.body, Number.POSITIVE_INFINITY)
          .then((text) =>
            this.settle({ kind: 'not-streamed', completion: parseCompletion(ctx, text, res.headers) }),
          )
          .catch((error: unknown) => this.fail(error));
        return;
      }
      res.body.destroy();
      this.fail(
        new StreamError(ctx.provider.name, 'bad-content-type', `expected text/event-stream, got "${type}"`),
      );
      return;
    }
    ctx.onOpen();
    // Made by now unless a caller's transport answered within the same turn.
    this.decoder ??= new Decoder(this);
    new BodyReader(res.body, this).start();
  }

  /** BodySink: the body ended (or we stopped reading it), or the connection broke. */
  onEnd(error?: unknown): void {
    if (error !== undefined) {
      this.fail(error);
      return;
    }
    let outcome: StreamOutcome;
    try {
      outcome = this.atEnd();
    } catch (failure) {
      this.fail(failure);
      return;
    }
    this.settle(outcome);
  }

  /** How the attempt ends when the body ended (or we stopped reading it). */
  private atEnd(): StreamOutcome {
    if (!this.stop && !this.fault) (this.decoder as Decoder).end();
    if (this.stop) return { kind: 'stopped' };
    // A finish_reason makes the answer complete, [DONE] or not; without one the stream was cut.
    if (this.finishReason !== null) return { kind: 'complete', finishReason: this.finishReason };
    throw (
      this.fault ??
      new StreamError(this.ctx.provider.name, 'incomplete', 'the stream ended before the answer was finished')
    );
  }

  private settle(outcome: StreamOutcome): void {
    if (this.over) return;
    this.over = true;
    this.cleanUp();
    this.report(outcome);
  }

  private fail(error: unknown): void {
    if (this.over) return;
    this.over = true;
    this.cleanUp();
    // The connection dropped (or was closed by us) after the finish chunk: the answer is complete.
    if (this.finishReason !== null && !this.stop) {
      this.report({ kind: 'complete', finishReason: this.finishReason });
      return;
    }
    const closed = closedReason(this.ctx, this);
    const mapped =
      error instanceof ExaiError && closed === undefined ? error : mapNetworkError(this.ctx, error, closed);
    this.report(undefined, new AttemptError(mapped, this.tokens));
  }

  private cleanUp(): void {
    this.watchdog.stop();
    // Anything but a fully read body leaves the socket in an unknown state: close it.
    if (this.body && !this.body.complete) this.body.destroy();
  }

  /** BodySink: one network read. */
  onRead(buf: Buffer): boolean | 'yield' {
    const before = this.received;
    const first = this.tokens === 0;
    // Made before the body reader started (`opened`).
    (this.decoder as Decoder).push(buf);
    // Every chunk of one read arrived at the same moment: one clock read per read.
    if (this.received !== before) this.watchdog.chunks();
    if (this.stop || this.fault || (this.watchdog.done && this.finishReason === null)) return false;
    // The first token reaches the consumer before the rest of its burst is parsed.
    return first && this.tokens > 0 ? 'yield' : true;
  }

  /** BodySink: a promise while the consumer is behind; the silence meanwhile is not the provider's. */
  drain(): Promise<void> | undefined {
    const { ctx, watchdog } = this;
    if (!ctx.needsDrain()) return undefined;
    watchdog.pause();
    return untilDrainedOrAborted(() => ctx.whenDrained(), ctx.signal).then(() => watchdog.resume());
  }

  /** Once the finish chunk is in, the answer is complete: whatever follows cannot spoil it. */
  private setFault(error: ExaiError): void {
    if (this.finishReason !== null) {
      this.watchdog.finish();
      this.watchdog.awaitEnd();
    } else this.fault ??= error;
  }

  /** SseCallbacks: one event's data. */
  onData(data: string): void {
    if (this.stop || this.fault || this.watchdog.done) return;
    const { ctx } = this;
    if (data === '[DONE]') {
      this.watchdog.finish();
      // The body nearly always ends in the same read; the grace timer is armed only if it did not.
      void Promise.resolve(this).then(graceIfOpen);
      return;
    }
    let parsed: ReturnType<Provider['normalizeChunk']>;
    try {
      parsed = ctx.provider.normalizeChunk(JSON.parse(data), this);
    } catch (error) {
      this.setFault(
        new StreamError(ctx.provider.name, 'malformed', `unreadable chunk (${(error as Error).message})`),
      );
      return;
    }
    if (isErrorFrame(parsed)) {
      this.setFault(errorFromFrame(ctx.provider.name, parsed, this.headers ?? this.body?.headers));
      return;
    }
    this.received++;
    ctx.transform(parsed);
    for (const c of parsed.choices) if (c.finish_reason) this.finishReason = c.finish_reason;
    if (hasToken(parsed)) this.tokens++;
    if (!ctx.deliver(parsed)) this.stop = true;
  }

  /** SseCallbacks: the framing failed (an event outgrew its cap). */
  onError(error: { message: string }): void {
    this.setFault(new StreamError(this.ctx.provider.name, 'malformed', error.message));
  }

  /** @internal The hop after the attempt ended: the run learns how. */
  static reportOver(a: StreamAttempt): void {
    a.ctx.requestOver(a.outcome, a.error);
  }

  /** @internal A tick after the request was handed to the transport (see `run`). */
  static afterSend(a: StreamAttempt): void {
    if (a.over) return;
    a.watchdog.start();
    a.decoder ??= new Decoder(a);
  }

  /** @internal After [DONE]: the grace timer, unless the body ended in the same read. */
  static graceIfOpen(a: StreamAttempt): void {
    if (!a.body?.complete) a.watchdog.awaitEnd();
  }
}

const afterSend = StreamAttempt.afterSend;
const graceIfOpen = StreamAttempt.graceIfOpen;
const reportOver = StreamAttempt.reportOver;

/** How long to wait for the body to end after [DONE] before closing the connection ourselves. */
const DONE_GRACE_MS = 1000;

function hasToken(chunk: ChatCompletionChunk): boolean {
  const d = chunk.choices[0]?.delta;
  return !!(d && (d.content || d.reasoning_content || d.tool_calls?.length));
}
