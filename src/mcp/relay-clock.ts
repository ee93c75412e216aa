// The clock the progress relay runs on: performance.now() and node's timers, or a fake one in tests.

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realClock: Clock = {
  now: () => performance.now(),
  // Node counts a timer in whole milliseconds from the event loop's cached time, so it fires up to
  // a millisecond (plus the loop's lag) before a fractional due time by performance.now(). One
  // millisecond more makes an early timer rare; the relay still checks the time when one fires.
  setTimeout: (fn, ms) => setTimeout(fn, Math.ceil(ms) + 1),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
