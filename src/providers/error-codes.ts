// What each provider's own error codes mean for a client: give up at once, or retry with backoff.
// Data, one table per provider; errorFromBody/errorFromFrame read it, the stream runner acts on it.
import type { ProviderName } from '../types.js';

/** `fatal`: the same request fails the same way however often it is sent. `retry`: try again later. */
export type ErrorAction = 'fatal' | 'retry';

export interface ErrorCodeEntry {
  action: ErrorAction;
  meaning: string;
  source: string;
}

const GLM_DOCS = 'docs.z.ai/api-reference/api-code (checked 2026-11)';
const KIMI_DOCS = 'platform.kimi.ai/docs/api/errors (checked 2026-11)';

/** GLM (Z.ai): `error.code` is a string of digits, in HTTP error bodies and in `event: error` frames. */
const GLM: Record<string, ErrorCodeEntry> = {
  '1000': { action: 'fatal', meaning: 'authentication failed', source: GLM_DOCS },
  '1001': { action: 'fatal', meaning: 'authentication header missing', source: GLM_DOCS },
  '1002': { action: 'fatal', meaning: 'invalid authentication token', source: GLM_DOCS },
  '1003': { action: 'fatal', meaning: 'authentication token expired', source: GLM_DOCS },
  '1004': { action: 'fatal', meaning: 'authentication failed', source: GLM_DOCS },
  '1113': { action: 'fatal', meaning: 'insufficient balance or no resource package', source: GLM_DOCS },
  '1210': { action: 'fatal', meaning: 'invalid API parameter', source: GLM_DOCS },
  '1211': { action: 'fatal', meaning: 'unknown model', source: GLM_DOCS },
  '1214': { action: 'fatal', meaning: 'invalid messages parameter', source: GLM_DOCS },
  '1261': { action: 'fatal', meaning: 'prompt too long', source: GLM_DOCS },
  '1301': {
    action: 'fatal',
    meaning: 'unsafe or sensitive content in input or generation',
    source: `${GLM_DOCS}; body seen in langchain4j issue #1079`,
  },
  '1302': { action: 'retry', meaning: 'concurrency limit reached', source: GLM_DOCS },
  '1303': { action: 'retry', meaning: 'request frequency limit reached', source: GLM_DOCS },
  // The daily limit is the same until tomorrow: retrying within one call cannot help.
  '1304': { action: 'fatal', meaning: 'daily call limit reached', source: GLM_DOCS },
  '1305': { action: 'retry', meaning: 'service temporarily overloaded', source: GLM_DOCS },
  // The GLM adapter turns `finish_reason: "network_error"` into an error frame with this code.
  network_error: {
    action: 'retry',
    meaning: 'model inference failed mid-stream (finish_reason "network_error")',
    source: 'docs.z.ai chat completion finish_reason values (checked 2026-11)',
  },
};

/** Kimi (Moonshot): `error.type` names the error; the body has no numeric code. */
const KIMI: Record<string, ErrorCodeEntry> = {
  invalid_authentication_error: { action: 'fatal', meaning: 'invalid API key', source: KIMI_DOCS },
  incorrect_api_key_error: { action: 'fatal', meaning: 'incorrect API key', source: KIMI_DOCS },
  exceeded_current_quota_error: {
    action: 'fatal',
    meaning: 'account suspended: insufficient balance',
    source: KIMI_DOCS,
  },
  permission_denied_error: { action: 'fatal', meaning: 'API not open to this account', source: KIMI_DOCS },
  resource_not_found_error: { action: 'fatal', meaning: 'unknown model or no permission', source: KIMI_DOCS },
  invalid_request_error: { action: 'fatal', meaning: 'invalid request', source: KIMI_DOCS },
  content_filter: { action: 'fatal', meaning: 'request rejected as high risk', source: KIMI_DOCS },
  rate_limit_reached_error: {
    action: 'retry',
    meaning: 'rate or concurrency limit reached',
    source: KIMI_DOCS,
  },
  engine_overloaded_error: { action: 'retry', meaning: 'engine overloaded', source: KIMI_DOCS },
  server_error: { action: 'retry', meaning: 'internal server error', source: KIMI_DOCS },
  unexpected_output: { action: 'retry', meaning: 'unexpected model output', source: KIMI_DOCS },
  server_unavailable: { action: 'retry', meaning: 'server temporarily unavailable', source: KIMI_DOCS },
};

export const ERROR_CODES: Record<ProviderName, Readonly<Record<string, ErrorCodeEntry>>> = {
  glm: GLM,
  kimi: KIMI,
};

/**
 * How a 4xx says the model or endpoint cannot stream (synthesised from the wording gateways and
 * OpenAI-compatible servers use; neither provider documents one). Matched on the provider's message.
 */
export const STREAM_REFUSED: readonly RegExp[] = [
  /\b(?:does not|doesn't|do not|don't|not|cannot|can't)\s+support\s+(?:the\s+)?stream/i,
  /\bstream(?:ing)?\b[^.]{0,40}\b(?:is\s+|are\s+)?(?:not\s+supported|unsupported|not\s+allowed|not\s+available|disabled)/i,
];

export interface Classification {
  retryable: boolean;
  /** A 4xx saying streaming is not available: ask once more without streaming. */
  streamRefused: boolean;
  meaning?: string;
}

/**
 * The provider's code decides first; without a known code, the HTTP status does: 408, 409, 429
 * and 5xx are retried, any other 4xx is not. An error frame (HTTP 200) with an unknown code is a
 * failure of that one stream and is retried.
 */
export function classify(
  provider: ProviderName,
  status: number,
  code: string | undefined,
  message: string | undefined,
): Classification {
  const entry = code === undefined ? undefined : ERROR_CODES[provider][code];
  const clientError = status >= 400 && status < 500 && status !== 408 && status !== 409 && status !== 429;
  const streamRefused = clientError && message !== undefined && STREAM_REFUSED.some((r) => r.test(message));
  if (streamRefused) return { retryable: false, streamRefused, ...(entry ? { meaning: entry.meaning } : {}) };
  if (entry) return { retryable: entry.action === 'retry', streamRefused: false, meaning: entry.meaning };
  return { retryable: !clientError, streamRefused: false };
}

/** Kimi's rate-limit messages carry the wait ("please try again after 1 seconds"). */
export function retryAfterFromMessage(message: string | undefined): number | undefined {
  const m = message?.match(/try again (?:after|in) (\d+(?:\.\d+)?) ?s(?:ec(?:ond)?s?)?\b/i);
  return m ? Math.round(Number(m[1]) * 1000) : undefined;
}
