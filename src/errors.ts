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

export class ExaiError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
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
  status: number;
  providerCode?: string | undefined;
  providerMessage?: string | undefined;
  requestId?: string | undefined;
  retryAfterMs?: number | undefined;
}

/** The provider answered with an HTTP error status. */
export class APIError extends ExaiError {
  readonly provider: ProviderName;
  readonly status: number;
  readonly providerCode: string | undefined;
  readonly providerMessage: string | undefined;
  readonly requestId: string | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(init: APIErrorInit) {
    const detail = [init.providerCode && `code ${init.providerCode}`, init.providerMessage]
      .filter(Boolean)
      .join(': ');
    super('api', `${init.provider} API error ${init.status}${detail ? ` (${detail})` : ''}`);
    this.name = 'APIError';
    this.provider = init.provider;
    this.status = init.status;
    this.providerCode = init.providerCode;
    this.providerMessage = init.providerMessage === undefined ? undefined : redact(init.providerMessage);
    this.requestId = init.requestId;
    this.retryAfterMs = init.retryAfterMs;
  }

  /** 408, 409, 429 and 5xx are worth another attempt (as openai-node and the zai SDK do). */
  get retryable(): boolean {
    return this.status === 408 || this.status === 409 || this.status === 429 || this.status >= 500;
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

/** Why an aborted signal stopped a request: our own reason (a deadline, a shutdown), else AbortError. */
export function abortReason(signal: AbortSignal): ExaiError {
  return signal.reason instanceof ExaiError ? signal.reason : new AbortError();
}

/** Errors that deserve another attempt when they happen before the first token. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof APIError) return error.retryable;
  return error instanceof ConnectionError || error instanceof TimeoutError || error instanceof StreamError;
}
