// The provider seam: each provider maps its wire quirks onto the shared OpenAI-compatible shapes.
import { APIError } from '../errors.js';
import { isObject, type Json } from '../json.js';
import type {
  ChatCompletionChunk,
  ChatCompletionCreateParams,
  ChatMessage,
  ProviderName,
  ToolCall,
  Usage,
} from '../types.js';
import { classify, retryAfterFromMessage } from './error-codes.js';
import type { ChunkState } from './normalize.js';

/** An in-band `{"error": {...}}` frame received inside an HTTP 200 stream. */
export interface ErrorFrame {
  error: { code?: string; message: string; type?: string };
  /** GLM puts the request id beside the error: `{"error":{...},"request_id":"..."}`. */
  requestId?: string;
}

export interface Completion {
  id: string;
  created: number;
  model: string;
  content: string;
  reasoning: string;
  toolCalls: ToolCall[];
  usage: Usage | null;
  finishReason: string | null;
  /** The provider's own finish reason, where it differs from `finishReason`. */
  providerFinishReason?: string;
  /** The provider said the answer failed (GLM `finish_reason: "network_error"`). */
  failure?: { code: string; message: string };
}

export interface Provider {
  readonly name: ProviderName;
  /** The JSON body for POST /chat/completions, with this provider's extras. */
  buildBody(params: ChatCompletionCreateParams, model: string, stream: boolean): Record<string, unknown>;
  /** Messages asking the model to continue `partial`, an answer it already began. */
  continuation(messages: ChatMessage[], partial: string): ChatMessage[];
  /**
   * One parsed `data:` JSON value → a normalised chunk, or the error frame it carried (or that its
   * finish reason means). `state` lives for one response.
   */
  normalizeChunk(raw: unknown, state?: ChunkState): ChatCompletionChunk | ErrorFrame;
  /** A non-streaming `chat.completion` body → the parts of a result. */
  normalizeCompletion(raw: unknown): Completion;
  /**
   * An HTTP error response → one APIError with the provider's own code and message; `baseURL`
   * lets a 401 say which endpoint the key may belong to.
   */
  apiError(
    status: number,
    bodyText: string,
    headers: Record<string, string | string[] | undefined>,
    baseURL?: string,
  ): APIError;
  /** Provider-specific checks of a request before it is sent (UsageError when it cannot succeed). */
  checkParams(params: ChatCompletionCreateParams, model: string): void;
}

export function isErrorFrame(v: ChatCompletionChunk | ErrorFrame): v is ErrorFrame {
  return 'error' in v;
}

/** Fields exai sets itself; everything else the caller gave is sent as it is. */
const OWN_FIELDS = new Set(['model', 'messages', 'stream', 'stream_options']);

/**
 * Shared body for both providers: every field the caller set (unknown ones too, as openai-node
 * sends them), with exai's model, messages and stream flag, and usage asked for when streaming.
 */
export function baseBody(params: ChatCompletionCreateParams, model: string, stream: boolean): Json {
  const body: Json = { model, messages: params.messages, stream };
  for (const key in params) {
    const value = params[key];
    if (value !== undefined && !OWN_FIELDS.has(key)) body[key] = value;
  }
  if (stream) {
    const asked = isObject(params.stream_options) ? params.stream_options : {};
    body.stream_options = { ...asked, include_usage: true };
  }
  return body;
}

/** Seconds or an HTTP date → milliseconds from now; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!v) return undefined;
  // delay-seconds is digits only (fractions tolerated); anything else must look like an HTTP date.
  if (/^\d+(\.\d+)?$/.test(v)) return Math.round(Number(v) * 1000);
  if (!HTTP_DATE.test(v)) return undefined;
  const date = Date.parse(v);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT") and the obsolete RFC 850 / asctime forms. */
const HTTP_DATE =
  /^(?:[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT|[A-Z][a-z]+, \d{2}-[A-Z][a-z]{2}-\d{2} \d{2}:\d{2}:\d{2} GMT|[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \d{4})$/;

/** Reads `{"error":{...}}` bodies of either provider; falls back to a snippet of the raw text. */
export function errorFromBody(
  provider: ProviderName,
  status: number,
  bodyText: string,
  headers: Record<string, string | string[] | undefined>,
  hint?: (status: number, code: string | undefined) => string | undefined,
): APIError {
  let code: string | undefined;
  let message: string | undefined;
  try {
    const parsed: unknown = JSON.parse(bodyText);
    const e =
      isObject(parsed) && isObject(parsed.error) ? parsed.error : isObject(parsed) ? parsed : undefined;
    if (e) {
      if (typeof e.message === 'string') message = e.message;
      if (e.code !== undefined && e.code !== null) code = String(e.code);
      else if (typeof e.type === 'string') code = e.type;
    }
  } catch {
    // Gateways answer HTML or plain text; keep a short, single-line excerpt.
  }
  if (message === undefined && bodyText.trim()) message = bodyText.replace(/\s+/g, ' ').trim().slice(0, 200);
  const requestId = headerRequestId(headers);
  return new APIError({
    provider,
    status,
    providerCode: code,
    providerMessage: message,
    requestId: requestIdFromBody(bodyText) ?? requestId,
    retryAfterMs: parseRetryAfter(headers['retry-after']) ?? retryAfterFromMessage(message),
    hint: hint?.(status, code),
    ...classify(provider, status, code, message),
  });
}

function headerRequestId(headers: Record<string, string | string[] | undefined>): string | undefined {
  const id = headers['x-request-id'] ?? headers['x-log-id'] ?? headers['request-id'];
  return Array.isArray(id) ? id[0] : id;
}

function requestIdFromBody(bodyText: string): string | undefined {
  if (!bodyText.includes('request_id')) return undefined;
  try {
    const parsed: unknown = JSON.parse(bodyText);
    return isObject(parsed) && typeof parsed.request_id === 'string' ? parsed.request_id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * An in-band error (an `error` frame inside a 200 stream, or a 200 body holding an error) as the
 * same APIError an HTTP status gives, classified by the provider's code.
 */
export function errorFromFrame(
  provider: ProviderName,
  frame: ErrorFrame,
  headers: Record<string, string | string[] | undefined> = {},
): APIError {
  const code = frame.error.code ?? frame.error.type;
  const message = frame.error.message;
  return new APIError({
    provider,
    status: 200,
    inBand: true,
    providerCode: code,
    providerMessage: message,
    requestId: frame.requestId ?? headerRequestId(headers),
    retryAfterMs: retryAfterFromMessage(message),
    ...classify(provider, 200, code, message),
  });
}
