// The fault matrix: each row is a scripted emulator fault and what every consumer must end with.
// The same rows drive the tests and render docs/reliability.md, so the document cannot drift.
import type { FaultSpec } from '../../src/emulator/index.js';

import type { ProviderName } from '../../src/index.js';

export type Mode = 'stream' | 'nostream';
export type Consumer = 'library' | 'cli' | 'mcp';

/** A value that may differ by provider (GLM codes are digits, Kimi's are error types). */
export type PerProvider<T> = T | Record<ProviderName, T>;

export function forProvider<T>(v: PerProvider<T>, provider: ProviderName): T {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof RegExp) && 'glm' in v
    ? (v as Record<ProviderName, T>)[provider]
    : (v as T);
}

export interface Expectation {
  /**
   * exact: the whole answer; prefix: a non-empty strict prefix of it; interrupted: a prefix of it
   * or all of its text, but the call did not finish (a broken tool call); error: no answer, an error.
   */
  result: 'exact' | 'prefix' | 'interrupted' | 'error';
  /** HTTP requests the call made: `metadata.requests` and the emulator's own count, exactly. */
  requests: number;
  streamed?: boolean;
  /** true: a fallback happened; a RegExp: its reason matches. */
  fallback?: boolean | RegExp;
  recovered?: boolean;
  finishReason?: string;
  /** The result holds the whole tool call the emulator sent. */
  toolCall?: boolean;
  /** Matched against the error message (result.error or the thrown error). */
  error?: PerProvider<RegExp>;
  /** The thrown error's `code` (library consumer). */
  code?: PerProvider<string>;
  /** The thrown error's request id (library consumer). */
  requestId?: PerProvider<RegExp>;
  /** Minimum duration, to show a Retry-After was honoured. */
  minDurationMs?: number;
  /** What the user sees, for the document. */
  sees: string;
}

export interface FaultCase {
  name: string;
  /** Faults for successive requests (retries, continuations, fallback). */
  script: PerProvider<FaultSpec[]>;
  /** A fault for every request once the script is used up. */
  always?: PerProvider<FaultSpec>;
  env?: Record<string, string>;
  /** Cancel by the caller after this many content chunks (needs pacing). */
  cancelAfterChunks?: number;
  paceMs?: number;
  /** The request offers a tool; only the library can send one (the CLI and MCP `chat` take none). */
  tools?: boolean;
  /** The shown answer starts with this before the emulator's answer (GLM's leading "\n"). */
  leading?: string;
  /** Consumers that run the row (default: all three). */
  consumers?: Consumer[];
  /** Every request after the first is sent without an assistant prefill. */
  noPrefill?: boolean;
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
    name: 'inference failed mid-answer (GLM finish_reason "network_error"; Kimi an overload frame)',
    script: {
      glm: [{ type: 'finish', reason: 'network_error', afterChunks: 5 }],
      kimi: [{ type: 'error-frame', afterChunks: 5, code: 'engine_overloaded_error' }],
    },
    expect: {
      stream: full({
        requests: 2,
        streamed: true,
        recovered: true,
        sees: 'the whole answer; the failed inference is continued from the text shown',
      }),
      nostream: full({ requests: 2, streamed: false, sees: 'the whole answer after one retry' }),
    },
  },
  {
    name: 'connection dropped after 5 chunks',
    script: [{ type: 'drop', afterChunks: 5 }],
    expect: {
      stream: full({
        requests: 2,
        streamed: true,
        recovered: true,
        sees: 'the whole answer; the tail comes from a continuation request',
      }),
      nostream: full({ requests: 2, streamed: false, sees: 'the whole answer after one retry' }),
    },
  },
  {
    name: 'connection dropped before the first chunk',
    script: [{ type: 'drop', afterChunks: 0 }],
    expect: {
      stream: full({ requests: 2, streamed: true, sees: 'the whole answer after one retry' }),
    },
  },
  {
    name: '429 with Retry-After: 1',
    script: [{ type: 'status', status: 429, retryAfter: '1' }],
    expect: {
      stream: full({
        requests: 2,
        streamed: true,
        minDurationMs: 1000,
        sees: 'the whole answer, one retry after the 1 s the provider asked for',
      }),
      nostream: full({
        requests: 2,
        streamed: false,
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
      stream: full({ requests: 3, streamed: true, sees: 'the whole answer after two retries with backoff' }),
      nostream: full({
        requests: 3,
        streamed: false,
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
        requests: 4,
        streamed: false,
        fallback: /503/,
        sees: 'the whole answer from a non-streaming fallback request',
      }),
      nostream: {
        result: 'error',
        requests: 3,
        error: /503/,
        sees: 'one error: provider, status 503 and its message',
      },
    },
  },
  {
    name: 'rate limit as the first frame, every request (GLM 1302, Kimi rate_limit_reached_error)',
    script: [],
    always: {
      glm: { type: 'error-frame', afterChunks: 0, code: '1302' },
      kimi: { type: 'error-frame', afterChunks: 0, code: 'rate_limit_reached_error' },
    },
    expect: {
      stream: {
        result: 'error',
        requests: 4,
        error: { glm: /code 1302/, kimi: /rate_limit_reached_error/ },
        code: { glm: '1302', kimi: 'rate_limit_reached_error' },
        requestId: { glm: /^frame-emu-4$/, kimi: /^emu-4$/ },
        sees: "3 streamed requests with backoff, 1 non-streaming one, then one error with the provider's code and the frame's request id",
      },
      nostream: {
        result: 'error',
        requests: 3,
        error: { glm: /code 1302/, kimi: /rate_limit_reached_error/ },
        code: { glm: '1302', kimi: 'rate_limit_reached_error' },
        sees: "3 requests with backoff, then one error with the provider's code",
      },
    },
  },
  {
    name: 'rate limit as the first frame once (GLM 1302, Kimi rate_limit_reached_error)',
    script: {
      glm: [{ type: 'error-frame', afterChunks: 0, code: '1302' }],
      kimi: [{ type: 'error-frame', afterChunks: 0, code: 'rate_limit_reached_error' }],
    },
    expect: {
      stream: full({ requests: 2, streamed: true, sees: 'the whole answer after one retry' }),
      nostream: full({ requests: 2, streamed: false, sees: 'the whole answer after one retry' }),
    },
  },
  {
    name: 'out of credit as an HTTP 429 body (GLM 1113, Kimi exceeded_current_quota_error)',
    script: {
      glm: [{ type: 'status', status: 429, code: '1113' }],
      kimi: [{ type: 'status', status: 429, code: 'exceeded_current_quota_error' }],
    },
    expect: {
      stream: {
        result: 'error',
        requests: 1,
        error: /insufficient balance/i,
        code: { glm: '1113', kimi: 'exceeded_current_quota_error' },
        requestId: /^emu-1$/,
        sees: 'one error at once, whose `code` says out of credit; no retry, no fallback',
      },
      nostream: {
        result: 'error',
        requests: 1,
        error: /insufficient balance/i,
        code: { glm: '1113', kimi: 'exceeded_current_quota_error' },
        sees: 'one error at once, whose `code` says out of credit',
      },
    },
  },
  {
    name: 'out of credit as an HTTP 400 body',
    script: {
      glm: [{ type: 'status', status: 400, code: '1113' }],
      kimi: [{ type: 'status', status: 400, code: 'exceeded_current_quota_error' }],
    },
    expect: {
      stream: {
        result: 'error',
        requests: 1,
        error: /insufficient balance/i,
        code: { glm: '1113', kimi: 'exceeded_current_quota_error' },
        sees: 'one error at once, whose `code` says out of credit',
      },
    },
  },
  {
    name: 'out of credit as an error frame (GLM 1113, Kimi exceeded_current_quota_error)',
    script: {
      glm: [{ type: 'error-frame', afterChunks: 0, code: '1113' }],
      kimi: [{ type: 'error-frame', afterChunks: 0, code: 'exceeded_current_quota_error' }],
    },
    expect: {
      stream: {
        result: 'error',
        requests: 1,
        error: /insufficient balance/i,
        code: { glm: '1113', kimi: 'exceeded_current_quota_error' },
        requestId: { glm: /^frame-emu-1$/, kimi: /^emu-1$/ },
        sees: 'one error at once, with the code and the request id of the frame',
      },
      nostream: {
        result: 'error',
        requests: 1,
        error: /insufficient balance/i,
        code: { glm: '1113', kimi: 'exceeded_current_quota_error' },
        sees: 'one error at once (HTTP 200 with an error body)',
      },
    },
  },
  {
    name: 'stall before the first token (5 s)',
    script: [{ type: 'stall', beforeFirstMs: 5000 }],
    expect: {
      stream: full({
        requests: 2,
        streamed: true,
        sees: 'the whole answer; the first-token timeout fired and the retry succeeded',
      }),
    },
  },
  {
    name: 'no answer at all (hung request)',
    script: [{ type: 'hang' }],
    expect: {
      stream: full({
        requests: 2,
        streamed: true,
        sees: 'the whole answer after a first-token timeout and one retry',
      }),
      nostream: {
        result: 'error',
        requests: 1,
        error: /total timeout/,
        sees: 'one error naming the total timeout',
      },
    },
  },
  {
    name: 'stall mid-stream (5 s after 5 chunks)',
    script: [{ type: 'stall', afterChunks: 5, ms: 5000 }],
    expect: {
      stream: full({
        requests: 2,
        streamed: true,
        recovered: true,
        sees: 'the whole answer; the idle timeout fired and a continuation finished it',
      }),
    },
  },
  {
    name: 'stall after some text, on every request',
    script: [],
    always: { type: 'stall', afterChunks: 5, ms: 5000, sameSpot: true },
    env: { EXAI_FIRST_TOKEN_TIMEOUT_MS: '300', EXAI_IDLE_TIMEOUT_MS: '300' },
    expect: {
      stream: {
        result: 'prefix',
        requests: 3,
        streamed: true,
        recovered: false,
        error: /partial.*timeout/,
        sees: 'every character received, `interrupted: true`; two continuations that bring nothing new end the call',
      },
    },
  },
  {
    name: 'error frame mid-stream',
    script: [{ type: 'error-frame', afterChunks: 5 }],
    expect: {
      stream: full({
        requests: 2,
        streamed: true,
        recovered: true,
        sees: 'the whole answer, completed by a continuation',
      }),
      nostream: full({
        requests: 2,
        streamed: false,
        sees: 'the whole answer after one retry (HTTP 200 with an error body)',
      }),
    },
  },
  {
    name: 'malformed frame',
    script: [{ type: 'malformed', afterChunks: 5 }],
    expect: {
      stream: full({
        requests: 2,
        streamed: true,
        recovered: true,
        sees: 'the whole answer, completed by a continuation',
      }),
      nostream: full({
        requests: 2,
        streamed: false,
        sees: 'the whole answer after one retry (truncated JSON body)',
      }),
    },
  },
  {
    name: 'finish chunk but no [DONE]',
    script: [{ type: 'no-done' }],
    expect: {
      stream: full({
        requests: 1,
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
        requests: 2,
        streamed: true,
        recovered: true,
        sees: 'the whole answer, completed by a continuation',
      }),
    },
  },
  {
    name: 'stream ends without finish_reason, on every request',
    script: [],
    always: { type: 'truncate', afterChunks: 5, sameSpot: true },
    expect: {
      stream: {
        result: 'prefix',
        requests: 3,
        streamed: true,
        recovered: false,
        error: /partial.*ended before/,
        sees: 'every character received, `interrupted: true`; two continuations that bring nothing new end the call',
      },
      nostream: {
        result: 'error',
        requests: 3,
        error: /unreadable completion/,
        sees: 'one error after two retries (every body is cut)',
      },
    },
  },
  {
    name: 'stream breaks three times, each time after new text',
    script: [
      { type: 'drop', afterChunks: 5 },
      { type: 'drop', afterChunks: 3 },
      { type: 'drop', afterChunks: 3 },
    ],
    expect: {
      stream: full({
        requests: 4,
        streamed: true,
        recovered: true,
        sees: 'the whole answer: a continuation that brings new text spends none of the budget',
      }),
    },
  },
  {
    name: 'stream breaks after text, then continuations bring nothing',
    script: [
      { type: 'drop', afterChunks: 5 },
      { type: 'drop', afterChunks: 0 },
      { type: 'drop', afterChunks: 0 },
      { type: 'drop', afterChunks: 0 },
    ],
    expect: {
      stream: {
        result: 'prefix',
        requests: 3,
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
        requests: 4,
        streamed: false,
        fallback: /503/,
        sees: 'the whole answer from a non-streaming fallback request',
      }),
      nostream: full({
        requests: 1,
        streamed: false,
        sees: 'the whole answer (non-streaming requests are not refused)',
      }),
    },
  },
  {
    name: 'streaming not supported (400 saying so)',
    script: [],
    always: { type: 'refuse-stream', mode: 'unsupported' },
    expect: {
      stream: full({
        requests: 2,
        streamed: false,
        fallback: /does not support stream/,
        sees: 'the whole answer from one non-streaming request; `fallback.reason` quotes the provider',
      }),
      nostream: full({ requests: 1, streamed: false, sees: 'the whole answer' }),
    },
  },
  {
    name: 'gateway answers JSON to a stream request',
    script: [{ type: 'refuse-stream', mode: 'json' }],
    expect: {
      stream: full({
        requests: 1,
        streamed: false,
        fallback: true,
        sees: 'the whole answer; no second request is made',
      }),
    },
  },
  {
    name: 'leading "\\n" (GLM) then a break',
    script: [
      { type: 'drop', afterChunks: 1, leadingNewline: true },
      { type: 'none', leadingNewline: true },
    ],
    leading: '\n',
    noPrefill: true,
    expect: {
      stream: full({
        requests: 2,
        streamed: true,
        sees: 'the whole answer from a fresh request without prefill; the "\\n" shown once',
      }),
    },
  },
  {
    name: 'half tool call after answer text',
    script: [{ type: 'break-tool-call' }],
    tools: true,
    consumers: ['library'],
    expect: {
      stream: {
        result: 'interrupted',
        requests: 1,
        streamed: true,
        toolCall: false,
        error: /partial.*inside tool call get_weather/,
        sees: 'the text, `interrupted: true`, no tool call, an error naming the incomplete call',
      },
      nostream: full({ requests: 2, toolCall: true, sees: 'the whole tool call after one retry' }),
    },
  },
  {
    name: 'half tool call before any answer text',
    script: [{ type: 'break-tool-call', noText: true }],
    tools: true,
    consumers: ['library'],
    noPrefill: true,
    expect: {
      stream: full({
        requests: 2,
        streamed: true,
        toolCall: true,
        sees: 'asked again from scratch: the whole tool call',
      }),
    },
  },
  {
    name: 'finish_reason "tool_calls" without a tool call, before any text',
    script: [{ type: 'tool-calls-no-call', noText: true }],
    tools: true,
    consumers: ['library'],
    noPrefill: true,
    expect: {
      stream: full({ requests: 2, toolCall: true, sees: 'asked again from scratch: the whole tool call' }),
      nostream: full({ requests: 2, toolCall: true, sees: 'asked again: the whole tool call' }),
    },
  },
  {
    name: 'finish_reason "tool_calls" without a tool call, after answer text',
    script: [],
    always: { type: 'tool-calls-no-call' },
    tools: true,
    consumers: ['library'],
    expect: {
      stream: {
        result: 'interrupted',
        requests: 1,
        toolCall: false,
        error: /partial.*"tool_calls" but carried no tool call/,
        sees: 'the text, `interrupted: true`, an error saying the tool call is missing',
      },
    },
  },
  {
    name: 'tool-call id changes mid-call',
    script: [{ type: 'tool-id-change' }],
    tools: true,
    consumers: ['library'],
    expect: {
      stream: full({ requests: 1, toolCall: true, sees: 'the whole tool call under its first id' }),
    },
  },
  {
    name: 'output larger than EXAI_MAX_OUTPUT_BYTES (120)',
    script: [],
    env: { EXAI_MAX_OUTPUT_BYTES: '120' },
    expect: {
      stream: {
        result: 'prefix',
        requests: 1,
        finishReason: 'length',
        error: /EXAI_MAX_OUTPUT_BYTES/,
        sees: 'the first 120 bytes, `finish_reason: "length"`, `interrupted: true`',
      },
      nostream: {
        result: 'prefix',
        requests: 1,
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
        requests: 1,
        error: /401.*Invalid Authentication/,
        sees: 'one error at once: provider, 401, its message; no retry',
      },
      nostream: {
        result: 'error',
        requests: 1,
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
        requests: 1,
        streamed: true,
        error: /abort/,
        sees: 'every token received so far; the upstream connection is closed at once',
      },
    },
  },
];
