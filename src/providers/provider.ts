// The provider seam: each provider maps its wire quirks onto the shared OpenAI-compatible shapes.
import { APIError } from '../errors.js';
import type {
  ChatCompletionChunk,
  ChatCompletionCreateParams,
  ChatMessage,
  ProviderName,
  ToolCall,
  Usage,
} from '../types.js';
import { classify, retryAfterFromMessage } from './error-codes.js';

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
}

export interface Provider {
  readonly name: ProviderName;
  /** The JSON body for POST /chat/completions, with this provider's extras. */
  buildBody(params: ChatCompletionCreateParams, model: string, stream: boolean): Record<string, unknown>;
  /** Messages asking the model to continue `partial`, an answer it already began. */
  continuation(messages: ChatMessage[], partial: string): ChatMessage[];
  /** One parsed `data:` JSON value → a normalised chunk, or the error frame it carried. */
  normalizeChunk(raw: unknown): ChatCompletionChunk | ErrorFrame;
  /** A non-streaming `chat.completion` body → the parts of a result. */
  normalizeCompletion(raw: unknown): Completion;
  /** An HTTP error response → one APIError with the provider's own code and message. */
  apiError(
    status: number,
    bodyText: string,
    headers: Record<string, string | string[] | undefined>,
  ): APIError;
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export function isErrorFrame(v: ChatCompletionChunk | ErrorFrame): v is ErrorFrame {
  return 'error' in v;
}

/** Shared body for both providers: OpenAI Chat Completions fields that were set. */
export function baseBody(params: ChatCompletionCreateParams, model: string, stream: boolean): Json {
  const body: Json = { model, messages: params.messages, stream };
  for (const key of [
    'temperature',
    'top_p',
    'max_tokens',
    'stop',
    'tools',
    'tool_choice',
    'response_format',
  ] as const) {
    if (params[key] !== undefined) body[key] = params[key];
  }
  if (stream) body.stream_options = { include_usage: true };
  return body;
}

/**
 * Parses a `data:` JSON value into a chunk in place (no copy: this runs once per token).
 * `usageFromChoice` moves Kimi's `choices[0].usage` to the top level.
 */
export function toChunk(raw: unknown, usageFromChoice: boolean): ChatCompletionChunk | ErrorFrame {
  if (!isObject(raw)) throw new TypeError('chunk is not a JSON object');
  if (isObject(raw.error)) {
    const e = raw.error;
    return {
      error: {
        message: typeof e.message === 'string' ? e.message : JSON.stringify(e),
        ...(e.code !== undefined ? { code: String(e.code) } : {}),
        ...(typeof e.type === 'string' ? { type: e.type } : {}),
      },
      ...(typeof raw.request_id === 'string' ? { requestId: raw.request_id } : {}),
    };
  }
  const choices = raw.choices;
  if (!Array.isArray(choices)) throw new TypeError('chunk has no choices array');
  for (const c of choices) {
    if (!isObject(c)) throw new TypeError('chunk choice is not an object');
    if (!isObject(c.delta)) c.delta = {};
    if (c.finish_reason === undefined) c.finish_reason = null;
    if (usageFromChoice && isObject(c.usage) && raw.usage == null) {
      raw.usage = c.usage;
      delete c.usage;
    }
  }
  raw.object = 'chat.completion.chunk';
  return raw as unknown as ChatCompletionChunk;
}

export function toCompletion(raw: unknown): Completion {
  if (!isObject(raw) || !Array.isArray(raw.choices)) throw new TypeError('completion has no choices array');
  const choice = raw.choices[0];
  const message = isObject(choice) && isObject(choice.message) ? choice.message : {};
  const usage = isObject(raw.usage)
    ? (raw.usage as Usage)
    : isObject(choice) && isObject(choice.usage)
      ? (choice.usage as Usage)
      : null;
  return {
    id: typeof raw.id === 'string' ? raw.id : '',
    created: typeof raw.created === 'number' ? raw.created : Math.floor(Date.now() / 1000),
    model: typeof raw.model === 'string' ? raw.model : '',
    content: typeof message.content === 'string' ? message.content : '',
    reasoning: typeof message.reasoning_content === 'string' ? message.reasoning_content : '',
    toolCalls: Array.isArray(message.tool_calls) ? (message.tool_calls as ToolCall[]) : [],
    usage,
    finishReason: isObject(choice) && typeof choice.finish_reason === 'string' ? choice.finish_reason : null,
  };
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
