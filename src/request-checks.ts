// Sanity checks on a request before it is sent: clear errors instead of a provider 400 or a hung upload.
import { UsageError } from './errors.js';
import { findModel } from './providers/catalog.js';
import type { ChatCompletionCreateParams } from './types.js';

export const MAX_MESSAGES = 10_000;
/** Far above any context window in the catalog; guards against accidental multi-megabyte uploads. */
export const MAX_PROMPT_CHARS = 16 * 1024 * 1024;
/** Characters per token below which no real text goes; used to tell a prompt is surely too long. */
const MIN_CHARS_PER_TOKEN = 6;

const ROLES = new Set(['system', 'user', 'assistant', 'tool']);

export function checkRequest(params: ChatCompletionCreateParams, model: string): void {
  const { messages } = params;
  if (!Array.isArray(messages) || messages.length === 0)
    throw new UsageError('messages must be a non-empty array');
  if (messages.length > MAX_MESSAGES) {
    throw new UsageError(`too many messages: ${messages.length} (at most ${MAX_MESSAGES})`);
  }
  let chars = 0;
  for (const [i, m] of messages.entries()) {
    if (typeof m !== 'object' || m === null || !ROLES.has(m.role)) {
      throw new UsageError(`messages[${i}] needs a role of system, user, assistant or tool`);
    }
    if (m.content !== null && typeof m.content !== 'string') {
      throw new UsageError(`messages[${i}].content must be a string`);
    }
    chars += m.content?.length ?? 0;
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
