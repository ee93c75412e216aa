// Backoff (Retry-After, exponential growth, equal jitter), a sleep that an AbortSignal cancels, and
// the request budget that decides which request follows a failed one.
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AbortError } from '../src/errors.js';
import { type FailedRequest, RequestBudget } from '../src/streaming/budget.js';
import { backoffDelay, DEFAULT_BACKOFF, sleep } from '../src/streaming/retry.js';

const options = { baseMs: 500, maxMs: 30_000 };
const never = () => {
  throw new Error('random() must not be consulted');
};

describe('backoffDelay with Retry-After', () => {
  it.each([
    { retryAfterMs: 1_000, expected: 1_000 },
    { retryAfterMs: 0, expected: 0 },
    { retryAfterMs: 29_999, expected: 29_999 },
    { retryAfterMs: 30_000, expected: 30_000 },
    { retryAfterMs: 30_001, expected: 30_000 },
    { retryAfterMs: 3_600_000, expected: 30_000 },
    { retryAfterMs: -5, expected: 0 },
  ])('waits $expected ms when the provider asks for $retryAfterMs ms', ({ retryAfterMs, expected }) => {
    expect(backoffDelay(0, retryAfterMs, options, never)).toBe(expected);
    expect(backoffDelay(7, retryAfterMs, options, never)).toBe(expected);
  });

  it('honours any Retry-After up to maxMs, whatever the retry number, without jitter', () => {
    fc.assert(
      fc.property(
        fc.nat(50),
        fc.integer({ min: 0, max: 10_000_000 }),
        fc.integer({ min: 1, max: 120_000 }),
        (retry, retryAfterMs, maxMs) => {
          expect(backoffDelay(retry, retryAfterMs, { baseMs: 100, maxMs }, never)).toBe(
            Math.min(retryAfterMs, maxMs),
          );
        },
      ),
    );
  });
});

describe('backoffDelay without Retry-After', () => {
  it.each([
    { retry: 0, high: 500, low: 250 },
    { retry: 1, high: 1_000, low: 500 },
    { retry: 2, high: 2_000, low: 1_000 },
    { retry: 3, high: 4_000, low: 2_000 },
    { retry: 5, high: 16_000, low: 8_000 },
    { retry: 6, high: 30_000, low: 15_000 },
    { retry: 20, high: 30_000, low: 15_000 },
    { retry: 2_000, high: 30_000, low: 15_000 },
  ])(
    'doubles from baseMs up to maxMs: retry $retry waits between $low and $high ms',
    ({ retry, high, low }) => {
      expect(backoffDelay(retry, undefined, options, () => 1)).toBe(high);
      expect(backoffDelay(retry, undefined, options, () => 0)).toBe(low);
      expect(backoffDelay(retry, undefined, options, () => 0.5)).toBe(Math.round(low * 1.5));
    },
  );

  it('uses 500 ms doubling to 30 s by default', () => {
    expect(DEFAULT_BACKOFF).toEqual({ baseMs: 500, maxMs: 30_000 });
    expect(backoffDelay(0, undefined, undefined, () => 1)).toBe(500);
    expect(backoffDelay(10, undefined, undefined, () => 1)).toBe(30_000);
  });

  it('keeps every delay within [exp/2, exp] where exp = min(maxMs, baseMs * 2^retry)', () => {
    fc.assert(
      fc.property(
        fc.nat(80),
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 600_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (retry, baseMs, maxMs, r) => {
          const exp = Math.min(maxMs, baseMs * 2 ** retry);
          const delay = backoffDelay(retry, undefined, { baseMs, maxMs }, () => r);
          expect(Number.isInteger(delay)).toBe(true);
          expect(delay).toBeGreaterThanOrEqual(exp / 2);
          expect(delay).toBeLessThanOrEqual(exp);
        },
      ),
    );
  });

  it('never waits less for a later retry than for an earlier one, given the same random draw', () => {
    fc.assert(
      fc.property(
        fc.nat(60),
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 600_000 }),
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        (retry, baseMs, maxMs, r) => {
          const o = { baseMs, maxMs };
          expect(backoffDelay(retry + 1, undefined, o, () => r)).toBeGreaterThanOrEqual(
            backoffDelay(retry, undefined, o, () => r),
          );
        },
      ),
    );
  });

  it('spreads clients that fail together: different random draws give different delays', () => {
    const delays = new Set(
      [0, 0.25, 0.5, 0.75, 0.999].map((r) => backoffDelay(4, undefined, options, () => r)),
    );
    expect(delays.size).toBe(5);
  });
});

/** A signal we can inspect: counts the abort listeners currently registered. */
class CountingSignal extends EventTarget {
  aborted = false;
  reason: unknown = undefined;
  listeners = 0;
  override addEventListener(...args: Parameters<EventTarget['addEventListener']>): void {
    this.listeners++;
    super.addEventListener(...args);
  }
  override removeEventListener(...args: Parameters<EventTarget['removeEventListener']>): void {
    this.listeners--;
    super.removeEventListener(...args);
  }
  abort(reason?: unknown): void {
    this.aborted = true;
    this.reason = reason;
    this.dispatchEvent(new Event('abort'));
  }
}

/** Settles state of a promise as seen right now, after pending microtasks have run. */
async function state(p: Promise<unknown>): Promise<'pending' | 'resolved' | 'rejected'> {
  let s: 'pending' | 'resolved' | 'rejected' = 'pending';
  p.then(
    () => {
      s = 'resolved';
    },
    () => {
      s = 'rejected';
    },
  );
  for (let i = 0; i < 5; i++) await Promise.resolve();
  return s;
}

describe('sleep', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('resolves once its time has passed, and not before', async () => {
    const p = sleep(1_000);
    vi.advanceTimersByTime(999);
    expect(await state(p)).toBe('pending');
    vi.advanceTimersByTime(1);
    expect(await state(p)).toBe('resolved');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects at once with the signal reason when aborted, without waiting for the timer', async () => {
    const controller = new AbortController();
    const p = sleep(60_000, controller.signal);
    const reason = new Error('user pressed Ctrl-C');
    controller.abort(reason);
    await expect(p).rejects.toBe(reason);
  });

  it('clears its timer when aborted', async () => {
    const controller = new AbortController();
    const p = sleep(60_000, controller.signal);
    expect(vi.getTimerCount()).toBe(1);
    controller.abort();
    await expect(p).rejects.toMatchObject({ name: 'AbortError' });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects without starting a timer when the signal is already aborted', async () => {
    const reason = new Error('already gone');
    const p = sleep(60_000, AbortSignal.abort(reason));
    expect(vi.getTimerCount()).toBe(0);
    await expect(p).rejects.toBe(reason);
  });

  it('rejects with an AbortError when the signal aborts without a reason', async () => {
    const signal = new CountingSignal();
    const p = sleep(60_000, signal as unknown as AbortSignal);
    signal.abort();
    await expect(p).rejects.toBeInstanceOf(AbortError);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects with an AbortError when given a signal that was aborted without a reason', async () => {
    const signal = new CountingSignal();
    signal.aborted = true;
    await expect(sleep(10, signal as unknown as AbortSignal)).rejects.toBeInstanceOf(AbortError);
    expect(signal.listeners).toBe(0);
  });

  it('removes its abort listener once it resolves, so a later abort does nothing', async () => {
    const signal = new CountingSignal();
    const p = sleep(100, signal as unknown as AbortSignal);
    expect(signal.listeners).toBe(1);
    vi.advanceTimersByTime(100);
    await expect(p).resolves.toBeUndefined();
    expect(signal.listeners).toBe(0);
    signal.abort(new Error('too late'));
  });
});

describe('RequestBudget (DESIGN §4: one request budget per call)', () => {
  const failed = (over: Partial<FailedRequest> = {}): FailedRequest => ({
    progress: false,
    answered: false,
    streaming: true,
    fatal: false,
    streamRefused: false,
    toolCallBroken: false,
    ...over,
  });

  /** Plays a fault that repeats on every request; returns the requests made and the last decision. */
  function repeat(budget: RequestBudget, first: FailedRequest, then: FailedRequest) {
    let requests = 1;
    let d = budget.next(first);
    while (d.kind !== 'stop' && requests < 100) {
      requests++;
      d = budget.next(d.kind === 'fallback' ? { ...then, streaming: false } : then);
    }
    return requests;
  }

  it('a failure before any text, every time: retries while the budget lasts, then one fallback', () => {
    const budget = new RequestBudget(2);
    expect(budget.next(failed())).toEqual({ kind: 'fresh', backoff: 0 });
    expect(budget.next(failed())).toEqual({ kind: 'fresh', backoff: 1 });
    expect(budget.next(failed())).toEqual({ kind: 'fallback' });
    expect(budget.next(failed({ streaming: false }))).toEqual({ kind: 'stop' });
  });

  it.each([0, 1, 2, 3, 5])(
    'no fault that repeats costs more than maxRetries + 2 requests (maxRetries %i)',
    (maxRetries) => {
      const cases: Array<[FailedRequest, FailedRequest]> = [
        [failed(), failed()],
        [failed({ progress: true, answered: true }), failed({ answered: true })],
        [failed({ answered: false }), failed({ toolCallBroken: true })],
        [failed({ progress: true, answered: true }), failed({ answered: true, toolCallBroken: true })],
      ];
      for (const [first, then] of cases) {
        expect(repeat(new RequestBudget(maxRetries), first, then)).toBeLessThanOrEqual(maxRetries + 2);
      }
    },
  );

  it('a request that brought new text spends nothing: the continuation follows at once', () => {
    const budget = new RequestBudget(2);
    for (let i = 0; i < 10; i++) {
      expect(budget.next(failed({ progress: true, answered: true }))).toEqual({
        kind: 'continue',
        backoff: undefined,
      });
    }
    // The budget is still whole: a fresh failure after all that is retried with the first backoff step.
    expect(budget.next(failed({ answered: true }))).toEqual({ kind: 'continue', backoff: 0 });
  });

  it('at most two continuations in a row bring nothing, whatever the budget', () => {
    const budget = new RequestBudget(10);
    budget.next(failed({ progress: true, answered: true }));
    expect(budget.next(failed({ answered: true })).kind).toBe('continue');
    expect(budget.next(failed({ answered: true })).kind).toBe('stop');
  });

  it('never falls back after answer text was shown, and only once per call', () => {
    const budget = new RequestBudget(0);
    expect(budget.next(failed({ answered: true }))).toEqual({ kind: 'stop' });
    const other = new RequestBudget(0);
    expect(other.next(failed())).toEqual({ kind: 'fallback' });
    expect(other.next(failed())).toEqual({ kind: 'stop' });
  });

  it('stops at once on what cannot succeed, and falls back at once when streaming is refused', () => {
    expect(new RequestBudget(2).next(failed({ fatal: true }))).toEqual({ kind: 'stop' });
    const budget = new RequestBudget(2);
    expect(budget.next(failed({ streamRefused: true }))).toEqual({ kind: 'fallback' });
    expect(budget.fallbackUsed).toBe(true);
  });

  it('a broken tool call asks again from scratch before text, and ends the call after it', () => {
    expect(new RequestBudget(2).next(failed({ toolCallBroken: true })).kind).toBe('fresh');
    expect(new RequestBudget(2).next(failed({ toolCallBroken: true, answered: true })).kind).toBe('stop');
  });

  it('maxRecoveries 0 turns continuation off', () => {
    expect(new RequestBudget(2, 0).next(failed({ progress: true, answered: true })).kind).toBe('stop');
  });
});
