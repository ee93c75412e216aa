// Small statistics helpers shared by the orchestrator and the workers.

/** p-th percentile (0..100) of an ascending array, nearest rank; null when empty. */
export function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

/** Count, p50, p99 and max of a list of numbers. */
export function summarize(values) {
  const sorted = Float64Array.from(values).sort();
  return {
    n: sorted.length,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    max: sorted.length ? sorted[sorted.length - 1] : null,
  };
}

/** Median of the finite numbers in `values`; null when there are none. */
export function median(values) {
  const xs = values.filter((v) => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b);
  if (xs.length === 0) return null;
  const mid = xs.length >> 1;
  return xs.length % 2 ? xs[mid] : (xs[mid - 1] + xs[mid]) / 2;
}

/** Median of `pick(run)` over runs. */
export const medianOf = (runs, pick) => median(runs.map(pick));

/** a / b, or null when either is missing or b is 0. */
export function ratio(a, b) {
  if (typeof a !== 'number' || typeof b !== 'number' || b === 0) return null;
  return a / b;
}

/** Rounds to `digits` significant decimals for JSON output (null stays null). */
export function round(value, digits = 3) {
  if (typeof value !== 'number' || !Number.isFinite(value)) return value ?? null;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
