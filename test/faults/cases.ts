// The fault matrix: each row is a scripted emulator fault and what every consumer must end with.
// The same rows drive the tests and render docs/reliability.md, so the document cannot drift.
import type { FaultSpec } from '../../src/emulator/index.js';

export type Mode = 'stream' | 'nostream';

export interface Expectation {
  /** exact: the whole answer; prefix: a non-empty strict prefix of it; error: no answer, an error. */
  result: 'exact' | 'prefix' | 'error';
  streamed?: boolean;
  fallback?: boolean;
  recovered?: boolean;
  retries?: number;
  finishReason?: string;
  /** Matched against the error message (result.error or the thrown error). */
  error?: RegExp;
  /** Minimum duration, to show a Retry-After was honoured. */
  minDurationMs?: number;
  /** What the user sees, for the document. */
  sees: string;
}

export interface FaultCase {
  name: string;
  /** Faults for successive requests (retries, continuations, fallback). */
  script: FaultSpec[];
  /** A fault for every request once the script is used up. */
  always?: FaultSpec;
  env?: Record<string, string>;
  /** Cancel by the caller after this many content chunks (needs pacing). */
  cancelAfterChunks?: number;
  paceMs?: number;
  expect: Partial<Record<Mode, Expectation>>;
}

/** Timeouts short enough for tests, long enough not to fire on a healthy loopback stream. */
export const MATRIX_ENV = {
  EXAI_FIRST_TOKEN_TIMEOUT_MS: '800',
  EXAI_IDLE_TIMEOUT_MS: '800',
  EXAI_TOTAL_TIMEOUT_MS: '4000',
  EXAI_MAX_RETRIES: '2',
};

export const MATRIX_WORDS = 40;

const full = (extra: Omit<Expectation, 'result'>): Expectation => ({ result: 'exact', ...extra });

export const FAULT_CASES: FaultCase[] = [
  {
    name: 'connection dropped after 5 chunks',
    script: [{ type: 'drop', afterChunks: 5 }],
    expect: {
      stream: full({
        streamed: true,
        recovered: true,
        sees: 'the whole answer; the tail comes from a continuation request',
      }),
      nostream: full({ streamed: false, retries: 1, sees: 'the whole answer after one retry' }),
    },
  },
  {
    name: 'connection dropped before the first chunk',
    script: [{ type: 'drop', afterChunks: 0 }],
    expect: {
      stream: full({ streamed: true, retries: 1, sees: 'the whole answer after one retry' }),
    },
  },
  {
    name: '429 with Retry-After: 1',
    script: [{ type: 'status', status: 429, retryAfter: '1' }],
    expect: {
      stream: full({
        streamed: true,
        retries: 1,
        minDurationMs: 1000,
        sees: 'the whole answer, one retry after the 1 s the provider asked for',
      }),
      nostream: full({
        streamed: false,
        retries: 1,
        minDurationMs: 1000,
        sees: 'the whole answer, one retry after 1 s',
      }),
    },
  },
  {
    name: '500 then 503',
    script: [
      { type: 'status', status: 500 },
      { type: 'status', status: 503 },
    ],
    expect: {
      stream: full({ streamed: true, retries: 2, sees: 'the whole answer after two retries with backoff' }),
      nostream: full({
        streamed: false,
        retries: 2,
        sees: 'the whole answer after two retries with backoff',
      }),
    },
  },
  {
    name: '503 burst longer than the retries',
    script: [
      { type: 'status', status: 503 },
      { type: 'status', status: 503 },
      { type: 'status', status: 503 },
    ],
    expect: {
      stream: full({
        streamed: false,
        fallback: true,
        retries: 2,
        sees: 'the whole answer from a non-streaming fallback request',
      }),
      nostream: { result: 'error', error: /503/, sees: 'one error: provider, status 503 and its message' },
    },
  },
  {
    name: 'stall before the first token (5 s)',
    script: [{ type: 'stall', beforeFirstMs: 5000 }],
    expect: {
      stream: full({
        streamed: true,
        retries: 1,
        sees: 'the whole answer; the first-token timeout fired and the retry succeeded',
      }),
    },
  },
  {
    name: 'no answer at all (hung request)',
    script: [{ type: 'hang' }],
    expect: {
      stream: full({
        streamed: true,
        retries: 1,
        sees: 'the whole answer after a first-token timeout and one retry',
      }),
      nostream: { result: 'error', error: /total timeout/, sees: 'one error naming the total timeout' },
    },
  },
  {
    name: 'stall mid-stream (5 s after 5 chunks)',
    script: [{ type: 'stall', afterChunks: 5, ms: 5000 }],
    expect: {
      stream: full({
        streamed: true,
        recovered: true,
        sees: 'the whole answer; the idle timeout fired and a continuation finished it',
      }),
    },
  },
  {
    name: 'error frame mid-stream',
    script: [{ type: 'error-frame', afterChunks: 5 }],
    expect: {
      stream: full({
        streamed: true,
        recovered: true,
        sees: 'the whole answer, completed by a continuation',
      }),
      nostream: full({
        streamed: false,
        retries: 1,
        sees: 'the whole answer after one retry (HTTP 200 with an error body)',
      }),
    },
  },
  {
    name: 'malformed frame',
    script: [{ type: 'malformed', afterChunks: 5 }],
    expect: {
      stream: full({
        streamed: true,
        recovered: true,
        sees: 'the whole answer, completed by a continuation',
      }),
      nostream: full({
        streamed: false,
        retries: 1,
        sees: 'the whole answer after one retry (truncated JSON body)',
      }),
    },
  },
  {
    name: 'finish chunk but no [DONE]',
    script: [{ type: 'no-done' }],
    expect: {
      stream: full({
        streamed: true,
        recovered: false,
        sees: 'the whole answer; a finish_reason without [DONE] is complete',
      }),
    },
  },
  {
    name: 'stream ends without finish_reason or [DONE]',
    script: [{ type: 'truncate', afterChunks: 5 }],
    expect: {
      stream: full({
        streamed: true,
        recovered: true,
        sees: 'the whole answer, completed by a continuation',
      }),
    },
  },
  {
    name: 'stream keeps breaking (3 drops)',
    script: [
      { type: 'drop', afterChunks: 5 },
      { type: 'drop', afterChunks: 3 },
      { type: 'drop', afterChunks: 3 },
    ],
    expect: {
      stream: {
        result: 'prefix',
        streamed: true,
        recovered: false,
        error: /partial.*connection/,
        sees: 'every token received, `interrupted: true` and an error naming the dropped connection',
      },
    },
  },
  {
    name: 'streaming refused (503 for every stream request)',
    script: [],
    always: { type: 'refuse-stream', mode: 'status' },
    expect: {
      stream: full({
        streamed: false,
        fallback: true,
        retries: 2,
        sees: 'the whole answer from a non-streaming fallback request',
      }),
      nostream: full({ streamed: false, sees: 'the whole answer (non-streaming requests are not refused)' }),
    },
  },
  {
    name: 'gateway answers JSON to a stream request',
    script: [{ type: 'refuse-stream', mode: 'json' }],
    expect: {
      stream: full({
        streamed: false,
        fallback: true,
        retries: 0,
        sees: 'the whole answer; no second request is made',
      }),
    },
  },
  {
    name: 'output larger than EXAI_MAX_OUTPUT_BYTES (120)',
    script: [],
    env: { EXAI_MAX_OUTPUT_BYTES: '120' },
    expect: {
      stream: {
        result: 'prefix',
        finishReason: 'length',
        error: /EXAI_MAX_OUTPUT_BYTES/,
        sees: 'the first 120 bytes, `finish_reason: "length"`, `interrupted: true`',
      },
      nostream: {
        result: 'prefix',
        finishReason: 'length',
        error: /EXAI_MAX_OUTPUT_BYTES/,
        sees: 'the first 120 bytes, `finish_reason: "length"`, `interrupted: true`',
      },
    },
  },
  {
    name: 'provider rejects the key (401)',
    script: [{ type: 'status', status: 401 }],
    expect: {
      stream: {
        result: 'error',
        error: /401.*Invalid Authentication/,
        sees: 'one error at once: provider, 401, its message; no retry',
      },
      nostream: {
        result: 'error',
        error: /401.*Invalid Authentication/,
        sees: 'one error at once: provider, 401, its message; no retry',
      },
    },
  },
  {
    name: 'caller cancels after 3 chunks',
    script: [],
    paceMs: 20,
    cancelAfterChunks: 3,
    expect: {
      stream: {
        result: 'prefix',
        streamed: true,
        error: /abort/,
        sees: 'every token received so far; the upstream connection is closed at once',
      },
    },
  },
];
