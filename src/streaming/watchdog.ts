// The clock of one streaming attempt: the first-token and idle deadlines, the grace period after
// [DONE], and the run's total deadline while the attempt streams. One timer, re-armed only when it
// fires: cheaper than resetting it on every chunk.
import { performance } from 'node:perf_hooks';

/**
 * Now in whole milliseconds, rounded up (a deadline counted from it never comes early). Whole
 * numbers stay small integers in V8's fields (for the first 24 days of a process); a fraction
 * is a heap number of 16 bytes per field, here and in node's timer when it is the timer's delay.
 */
const msNow = (): number => Math.ceil(performance.now());

/** What ran out: no first token, a silence between chunks, the wait for the body's end, or the run's time. */
export type Expiry = 'first-token' | 'idle' | 'grace' | 'total';

/** Who is told when a deadline passes (an object, not a callback: no closure per attempt). */
export interface WatchdogOwner {
  expired(what: Expiry): void;
  /** The run's total deadline (a `performance.now()` time), watched while the attempt streams. */
  readonly deadlineAt?: number;
}

export class Watchdog {
  private readonly started = msNow();
  private lastChunkAt = this.started;
  /** When [DONE] (or anything after the finish chunk) arrived; 0 before. */
  private doneAt = 0;
  private sawChunk = false;
  /** The consumer is behind and reading has paused: silence is ours, not the provider's. */
  private paused = false;
  private stopped = false;
  /**
   * A deadline passed and the attempt is being closed. Should the close not end it (a caller's
   * transport that ignores it), only the total deadline is watched from then on.
   */
  private lapsed = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly firstTokenMs: number,
    private readonly idleMs: number,
    private readonly graceMs: number,
    private readonly owner: WatchdogOwner,
  ) {}

  /**
   * Arms the first-token deadline, counted from when the watchdog was made: its owner may start
   * it later (a stream attempt does, a tick after handing its request to the transport). Nothing
   * once stopped, or once a first chunk armed the idle deadline.
   */
  start(): void {
    if (!this.stopped && this.timer === undefined) this.watch(this.started + this.firstTokenMs - msNow());
  }

  /** True once [DONE] arrived (or a fault came after the finish chunk). */
  get done(): boolean {
    return this.doneAt !== 0;
  }

  /** Chunks arrived now. From the first one on, the idle timeout governs. */
  chunks(): void {
    const now = msNow();
    this.lastChunkAt = now;
    if (this.sawChunk) return;
    this.sawChunk = true;
    // The pending first-token check hands over to the idle one, unless the idle deadline comes first.
    if (this.started + this.firstTokenMs - now > this.idleMs) this.rearm(this.idleMs);
  }

  /** The stream is over: give the server `graceMs` to end the body, but no more. */
  finish(): void {
    if (this.doneAt) return;
    this.doneAt = msNow();
  }

  /** Starts the grace period's timer (only needed when the body did not end at once). */
  awaitEnd(): void {
    this.rearm(this.graceMs);
  }

  pause(): void {
    this.paused = true;
  }

  /** Reading resumes: the idle timeout counts from now. */
  resume(): void {
    this.paused = false;
    this.lastChunkAt = msNow();
  }

  /** The attempt is over: nothing may arm a timer after this. */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  private watch(ms: number): void {
    if (this.stopped) return;
    const wait = Math.min(ms, (this.owner.deadlineAt ?? Number.POSITIVE_INFINITY) - performance.now());
    this.timer = setTimeout(check, Math.max(1, Math.ceil(wait)), this);
  }

  private rearm(ms: number): void {
    clearTimeout(this.timer);
    this.watch(ms);
  }

  /** @internal The timer's callback (a plain function, so no closure per attempt). */
  static check(w: Watchdog): void {
    const now = performance.now();
    let left: number;
    let what: Expiry;
    const deadlineAt = w.owner.deadlineAt ?? Number.POSITIVE_INFINITY;
    if (now >= deadlineAt) {
      w.owner.expired('total');
      return;
    }
    if (w.lapsed) {
      if (Number.isFinite(deadlineAt)) w.watch(deadlineAt - now);
      return;
    }
    if (w.doneAt) {
      left = w.doneAt + w.graceMs - now;
      what = 'grace';
    } else if (w.paused) {
      // The silence is ours while the consumer is behind: look again an idle period later.
      w.watch(w.idleMs);
      return;
    } else if (!w.sawChunk) {
      left = w.started + w.firstTokenMs - now;
      what = 'first-token';
    } else {
      left = w.lastChunkAt + w.idleMs - now;
      what = 'idle';
    }
    if (left > 0) {
      w.watch(left);
      return;
    }
    w.owner.expired(what);
    w.lapsed = true;
    if (Number.isFinite(deadlineAt)) w.watch(deadlineAt - now);
  }
}

const check = Watchdog.check;
