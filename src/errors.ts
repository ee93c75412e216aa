// One error hierarchy: every failure a caller can see is an ExaiError with a stable `code`.
import { redact } from './log.js';
import type { ProviderName } from './types.js';

export type ErrorCode =
  | 'config'
  | 'usage'
  | 'api'
  | 'connection'
  | 'timeout'
  | 'stream'
  | 'aborted'
  | 'output_limit';

/**
 * `code` is one of the ErrorCode values, except on an APIError whose provider sent its own code
 * ("1113", "rate_limit_reached_error", ...): that code is what a caller tests.
 */
export class ExaiError extends Error {
  readonly code: ErrorCode | (string & {});
  constructor(code: ErrorCode | (string & {}), message: string, options?: { cause?: unknown }) {
    // Provider messages can echo a key: no error message carries a registered secret (DESIGN §4).
    super(redact(message), options);
    this.name = 'ExaiError';
    this.code = code;
  }
}

/** Bad or missing configuration (missing key, malformed env value). CLI exit 2. */
export class ConfigError extends ExaiError {
  constructor(message: string) {
    super('config', message);
    this.name = 'ConfigError';
  }
}

/** The caller asked for something invalid (unknown model, empty prompt). CLI exit 2. */
export class UsageError extends ExaiError {
  constructor(message: string) {
    super('usage', message);
    this.name = 'UsageError';
  }
}

export interface APIErrorInit {
  provider: ProviderName;
  /** The HTTP status; 200 for an error frame inside a stream or a 200 error body. */
  status: number;
  providerCode?: string | undefined;
  providerMessage?: string | undefined;
  requestId?: string | undefined;
  retryAfterMs?: number | undefined;
  /** What the user can do about it (e.g. which endpoint a key belongs to), appended to the message. */
  hint?: string | undefined;
  /** The error arrived in-band (an `error` frame in the stream or a 200 body), not as a status. */
  inBand?: boolean;
  /** From the provider's error-code table: another attempt may succeed. */
  retryable: boolean;
  /** A 4xx saying the model or endpoint does not stream. */
  streamRefused?: boolean;
  /** What the provider's code means, from the table, when known. */
  meaning?: string | undefined;
}

/**
 * The provider refused the request: an HTTP error status or an in-band error frame. `code` is the
 * provider's own code when it sent one ("1113" out of credit, "1302" slow down), else "api".
 */
export class APIError extends ExaiError {
  readonly provider: ProviderName;
  readonly status: number;
  readonly providerCode: string | undefined;
  readonly providerMessage: string | undefined;
  readonly requestId: string | undefined;
  readonly retryAfterMs: number | undefined;
  readonly inBand: boolean;
  readonly retryable: boolean;
  readonly streamRefused: boolean;
  readonly meaning: string | undefined;
  /** Set by the stream runner: the call had made other requests before it ended with this error. */
  retried = false;

  constructor(init: APIErrorInit) {
    const detail = [init.providerCode && `code ${init.providerCode}`, init.providerMessage]
      .filter(Boolean)
      .join(': ');
    const where = init.inBand ? 'API error in the response' : `API error ${init.status}`;
    const hint = init.hint ? `; ${init.hint}` : '';
    super(init.providerCode ?? 'api', `${init.provider} ${where}${detail ? ` (${detail})` : ''}${hint}`);
    this.name = 'APIError';
    this.provider = init.provider;
    this.status = init.status;
    this.providerCode = init.providerCode;
    this.providerMessage = init.providerMessage === undefined ? undefined : redact(init.providerMessage);
    this.requestId = init.requestId;
    this.retryAfterMs = init.retryAfterMs;
    this.inBand = init.inBand ?? false;
    this.retryable = init.retryable;
    this.streamRefused = init.streamRefused ?? false;
    this.meaning = init.meaning;
  }
}

/** The connection failed or dropped (DNS, refused, reset, proxy failure). */
export class ConnectionError extends ExaiError {
  readonly provider: ProviderName;
  constructor(provider: ProviderName, message: string, options?: { cause?: unknown }) {
    super('connection', `${provider} connection error: ${message}`, options);
    this.name = 'ConnectionError';
    this.provider = provider;
  }
}

export type TimeoutKind = 'first-token' | 'idle' | 'total';

export class TimeoutError extends ExaiError {
  readonly kind: TimeoutKind;
  readonly timeoutMs: number;
  constructor(provider: ProviderName, kind: TimeoutKind, timeoutMs: number) {
    const what = {
      'first-token': 'no token arrived',
      idle: 'the stream went silent',
      total: 'the whole request took too long',
    }[kind];
    super('timeout', `${provider} ${kind} timeout: ${what} within ${timeoutMs} ms`);
    this.name = 'TimeoutError';
    this.kind = kind;
    this.timeoutMs = timeoutMs;
  }
}

export type StreamFault = 'malformed' | 'error-frame' | 'incomplete' | 'bad-content-type';

/** The SSE stream itself was broken: invalid JSON, an in-band error, or an end without finish_reason. */
export class StreamError extends ExaiError {
  readonly fault: StreamFault;
  readonly provider: ProviderName;
  constructor(provider: ProviderName, fault: StreamFault, message: string) {
    super('stream', `${provider} stream error (${fault}): ${message}`);
    this.name = 'StreamError';
    this.fault = fault;
    this.provider = provider;
  }
}

export class AbortError extends ExaiError {
  constructor(message = 'request aborted by the caller') {
    super('aborted', message);
    this.name = 'AbortError';
  }
}

/**
 * Why an abort stopped a request, as the error a caller gets: our own reason (a deadline, a
 * shutdown) as it is, anything else as an AbortError.
 */
export function abortReasonOf(reason: unknown): ExaiError {
  return reason instanceof ExaiError ? reason : new AbortError();
}
