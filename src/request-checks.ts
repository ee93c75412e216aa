// Sanity checks on a request before it is sent: clear errors instead of a provider 400 or a hung upload.
import { UsageError } from './errors.js';
import { findModel, MODELS } from './providers/catalog.js';
import type { ChatCompletionCreateParams } from './types.js';

export const MAX_MESSAGES = 10_000;
/** Far above any context window in the catalog; guards against accidental multi-megabyte uploads. */
export const MAX_PROMPT_CHARS = 16 * 1024 * 1024;
/** Characters per token below which no real text goes; used to tell a prompt is surely too long. */
const MIN_CHARS_PER_TOKEN = 6;

const ROLES = new Set(['system', 'user', 'assistant', 'tool']);

const PART_FIELDS: Record<string, string> = { image_url: 'image_url', video_url: 'video_url', file: 'file' };

/** Characters of text in a message's content: a string, null, or content parts (their text parts). */
function contentChars(content: unknown, i: number): number {
  if (content === null || content === undefined) return 0;
  if (typeof content === 'string') return content.length;
  if (!Array.isArray(content)) {
    throw new UsageError(`messages[${i}].content must be a string or an array of content parts`);
  }
  let chars = 0;
  for (let j = 0; j < content.length; j++) {
    const part: unknown = content[j];
    const where = `messages[${i}].content[${j}]`;
    if (typeof part !== 'object' || part === null || typeof (part as { type?: unknown }).type !== 'string') {
      throw new UsageError(`${where} must be a content part with a type ("text", "image_url", ...)`);
    }
    const p = part as Record<string, unknown>;
    if (p.type === 'text') {
      if (typeof p.text !== 'string') throw new UsageError(`${where} of type "text" needs a string text`);
      chars += p.text.length;
    } else {
      const field = PART_FIELDS[p.type as string];
      if (field !== undefined && (typeof p[field] !== 'object' || p[field] === null)) {
        throw new UsageError(`${where} of type "${p.type}" needs a ${field} object`);
      }
    }
  }
  return chars;
}

/** Sampling temperature accepted everywhere (CLI, library, MCP): the range both providers document. */
export const TEMPERATURE = { min: 0, max: 1 } as const;

/** Largest `max_tokens` for a model the catalog does not know: its largest context window. */
export const MAX_TOKENS_CEILING = Math.max(...MODELS.map((m) => m.contextWindow));

/** Largest `max_tokens` for `model`: the catalog's output limit, else {@link MAX_TOKENS_CEILING}. */
export function maxTokensFor(model: string): number {
  return findModel(model)?.maxOutput ?? MAX_TOKENS_CEILING;
}

/** The bounds on `temperature` and `max_tokens` (also `max_completion_tokens`) for `model`. */
export function checkSampling(params: ChatCompletionCreateParams, model: string): void {
  const p = params as { temperature?: unknown; max_tokens?: unknown; max_completion_tokens?: unknown };
  if (p.temperature !== undefined && p.temperature !== null) {
    const t = p.temperature;
    if (typeof t !== 'number' || !Number.isFinite(t) || t < TEMPERATURE.min || t > TEMPERATURE.max) {
      throw new UsageError(`temperature must be a number from ${TEMPERATURE.min} to ${TEMPERATURE.max}`);
    }
  }
  checkTokens('max_tokens', p.max_tokens, model);
  checkTokens('max_completion_tokens', p.max_completion_tokens, model);
}

function checkTokens(name: string, n: unknown, model: string): void {
  if (n === undefined || n === null) return;
  const limit = maxTokensFor(model);
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > limit) {
    throw new UsageError(`${name} must be a whole number from 1 to ${limit} for ${model}`);
  }
}

export function checkRequest(params: ChatCompletionCreateParams, model: string): void {
  checkSampling(params, model);
  const { messages } = params;
  if (!Array.isArray(messages) || messages.length === 0)
    throw new UsageError('messages must be a non-empty array');
  if (messages.length > MAX_MESSAGES) {
    throw new UsageError(`too many messages: ${messages.length} (at most ${MAX_MESSAGES})`);
  }
  let chars = 0;
  // Index loops: this runs before every request is sent, and an entries() iterator allocates.
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i];
    if (typeof m !== 'object' || m === null || !ROLES.has(m.role)) {
      throw new UsageError(`messages[${i}] needs a role of system, user, assistant or tool`);
    }
    chars += contentChars(m.content, i);
  }
  if (params.n !== undefined && params.n !== null && params.n !== 1) {
    throw new UsageError(
      `n must be 1 (got ${JSON.stringify(params.n)}): exai streams and aggregates one choice`,
    );
  }
  if (chars > MAX_PROMPT_CHARS) {
    throw new UsageError(`prompt too long: ${chars} characters (at most ${MAX_PROMPT_CHARS})`);
  }
  const window = findModel(model)?.contextWindow;
  if (window !== undefined && chars / MIN_CHARS_PER_TOKEN > window) {
    throw new UsageError(
      `prompt too long for ${model}: about ${Math.round(chars / 4)} tokens, its context window is ${window}`,
    );
  }
}
