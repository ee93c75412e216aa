// A run's life from start to end, as one object per call: the caller's signal, the total
// deadline, cancelling, and the hand-off from one request to the next. ChatRun (runner.ts) says
// what each request is, what it delivered and what follows a failed one. Nothing here waits in a
// suspended function: each request reports back to `requestOver`, so an open stream holds no
// promise and no timer of the run's own (its attempt's watchdog also watches the total deadline).
import { performance } from 'node:perf_hooks';
import { AbortError, abortReasonOf, ExaiError } from '../errors.js';
import type { Completion } from '../providers/provider.js';
import { AttemptError, type StreamOutcome } from './request.js';
import { sleep } from './retry.js';
import type { RunOutcome, RunSettled, RunSink } from './run-types.js';

/** Keeps the caller's reason when it is ours (e.g. "the MCP server is shutting down"). */
const callerReason = (reason: unknown) => (reason instanceof AbortError ? reason : new AbortError());

const ONCE = { once: true } as const;

export abstract class RunLifecycle {
  /** Cancelled by the caller or the total deadline, whichever came first; `abortedWith` says which. */
  aborted = false;
  abortedWith: unknown;
  /** AttemptContext: the total deadline (a `performance.now()` time). */
  readonly deadlineAt: number;
  protected readonly started = performance.now();
  /** Made on first use: most runs never wait on a signal (a backoff, a consumer behind, `stream.signal`). */
  private controller: AbortController | undefined;
  /**
   * The total deadline's timer, armed only while no streaming attempt watches the deadline (a
   * backoff, a non-streaming request): an open stream has one timer, its attempt's watchdog.
   */
  private total: NodeJS.Timeout | undefined;
  /** The caller's signal, listened to (with the run itself as the listener) until the call ends. */
  private caller: AbortSignal | undefined;
  private begun = false;
  private finished = false;
  /** `execute()`'s promise, when the caller asked for one. */
  private whenSettled: ((settled: RunSettled) => void) | undefined;

  /**
   * @param seesCallerReason the sink's reader sees the run's signal (a ChatStream's), so an abort
   *   carries the caller's own reason; otherwise it becomes an AbortError.
   */
  protected constructor(
    totalMs: number,
    caller: AbortSignal | undefined,
    protected readonly sink: RunSink,
    private readonly seesCallerReason: boolean,
  ) {
    // Whole milliseconds, rounded up: never early, and a small integer in V8's fields, not a heap number.
    this.deadlineAt = Math.ceil(this.started + totalMs);
    this.caller = caller;
  }

  /** Sends the next request (the first, or one `afterFailure` set up); it reports to `requestOver`. */
  protected abstract request(): void;
  /** Another request follows a failed one, now. */
  protected abstract retry(): void;
  /** A request was answered; throws when the answer cannot stand (then it counts as failed). */
  protected abstract accept(done: StreamOutcome | Completion): void;
  /** Throws when the call stops; else returns how long to wait before `retry` (undefined: at once). */
  protected abstract afterFailure(error: unknown, tokens: number): number | undefined;
  /** The whole or partial result; throws when nothing at all was delivered. */
  protected abstract outcome(failure: unknown): RunOutcome;
  /** Why the total deadline ended the call. */
  protected abstract deadlineError(): unknown;
  /** The run was cancelled: close the request in flight. */
  protected abstract cancelled(): void;

  /** Runs the call to its end; never rejects (the sink and the settled value say how it ended). */
  execute(): Promise<RunSettled> {
    return new Promise((resolve) => {
      this.whenSettled = resolve;
      this.start();
    });
  }

  /** Starts the call (once); the sink's `onEnd` says how it ended. */
  start(): void {
    if (this.begun) return;
    this.begun = true;
    const { caller } = this;
    if (this.aborted) this.finish(callerReason(this.abortedWith));
    else if (caller?.aborted) this.finish(callerReason(caller.reason));
    else {
      caller?.addEventListener('abort', this, ONCE);
      this.request();
    }
  }

  /** EventListener: the caller's signal fired. */
  handleEvent(): void {
    const reason = this.caller?.reason;
    this.abort(this.seesCallerReason ? reason : callerReason(reason));
  }

  /** AttemptContext: a request is over, answered (`done`) or failed (`error`). */
  requestOver(done: StreamOutcome | Completion | undefined, error?: unknown): void {
    let failure = error;
    if (done !== undefined) {
      let accepted = false;
      try {
        this.accept(done);
        accepted = true;
      } catch (raw) {
        failure = raw;
      }
      // Outside the try: a sink that throws at the end is not a failed request.
      if (accepted) {
        this.finish(undefined);
        return;
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
    if (wait === undefined) this.retry();
    else
      sleep(wait, this.signal).then(
        () => this.retry(),
        (why: unknown) => this.stop(why),
      );
  }

  /** Arms the run's own total-deadline timer, or clears it when a streaming attempt takes it over. */
  protected watchDeadline(own: boolean): void {
    if (!own || this.finished) {
      clearTimeout(this.total);
      this.total = undefined;
    } else if (this.total === undefined) {
      this.armTotal();
    }
  }

  private armTotal(): void {
    this.total = setTimeout(totalExpired, Math.max(1, Math.ceil(this.deadlineAt - performance.now())), this);
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

  /**
   * Cancels the run: its signal aborts with `reason` (what waits on it, a backoff or a consumer
   * behind, ends), and the attempt in flight closes its request.
   */
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.abortedWith = reason;
    this.controller?.abort(reason);
    this.cancelled();
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
    this.abort(this.deadlineError());
  }

  /** @internal The total deadline's timer (a plain function: no closure per run). */
  static totalExpired(run: RunLifecycle): void {
    run.total = undefined;
    // Node's timers may fire up to a millisecond before their time: then wait for the rest.
    if (performance.now() < run.deadlineAt) run.armTotal();
    else run.deadlinePassed();
  }
}

const totalExpired = RunLifecycle.totalExpired;
