// Backoff with jitter, Retry-After honoured up to a cap, and a sleep that a signal cancels.
import { AbortError } from '../errors.js';

export interface BackoffOptions {
  /** First delay before jitter (ms). */
  baseMs: number;
  /** No single wait is longer than this, whatever the provider asks (ms). */
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, maxMs: 30_000 };

/**
 * Delay before retry number `retry` (0-based): the provider's Retry-After when given (capped),
 * otherwise exponential backoff with "equal jitter" (half fixed, half random) so a burst of
 * clients that failed together does not retry together.
 */
export function backoffDelay(
  retry: number,
  retryAfterMs: number | undefined,
  options: BackoffOptions = DEFAULT_BACKOFF,
  random: () => number = Math.random,
): number {
  if (retryAfterMs !== undefined) return Math.min(Math.max(0, retryAfterMs), options.maxMs);
  const exp = Math.min(options.maxMs, options.baseMs * 2 ** retry);
  return Math.round(exp / 2 + random() * (exp / 2));
}

/** Waits `ms`, or rejects with the signal's reason (or an AbortError) as soon as it aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason ?? new AbortError());
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason ?? new AbortError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
