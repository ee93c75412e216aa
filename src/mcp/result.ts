// What a `chat` or `chat_resume` call returns: the answer text as the first content item (what
// the host's model reads), at most one short status item, and exai's details in
// `_meta["exai/result"]`, which hosts do not show the model.
import type { CallToolResult } from '@modelcontextprotocol/server';
import type { ChatMetadata, ChatResultError, Usage } from '../types.js';

export const RESULT_META_KEY = 'exai/result';

/** How the history sent with a continuation was bounded. */
export interface HistoryInfo {
  /** Earlier turns sent with this request. */
  turns: number;
  /** Oldest turns left out to fit the model's context window. */
  droppedTurns: number;
}

/**
 * `_meta["exai/result"]`: exai's details of a part. The text itself is `content[0].text` only:
 * a second copy here would double every result on the wire and in memory.
 */
export interface ExaiResult {
  /** This part's reasoning, with show_reasoning. */
  reasoning?: string;
  /** null until the last part. */
  finish_reason: string | null;
  usage?: Usage;
  metadata?: ChatMetadata;
  error?: ChatResultError;
  /** Set while the answer continues: pass it to `chat_resume`. */
  resume_id?: string;
  /** Pass it to `chat` to continue the conversation (absent when it could not be saved). */
  continuation_id?: string;
  /** 1 for `chat`, then 2, 3, … for each `chat_resume`. */
  part: number;
  history?: HistoryInfo;
}

export const continuesLine = (resumeId: string) =>
  `[answer continues: call chat_resume with resume_id "${resumeId}"]`;

export function partialLine(error: ChatResultError): string {
  return `[exai] The answer above is incomplete (${error.code}): ${error.message}`;
}

export const continuationLine = (id: string) =>
  `[exai] continuation_id "${id}": pass it to chat to continue this conversation`;

/** The status item for a part: why it stopped, that it continues, or how to continue the conversation. */
export function statusLine(r: ExaiResult, notSaved?: string): string | undefined {
  if (r.resume_id) return continuesLine(r.resume_id);
  const parts: string[] = [];
  if (r.error) parts.push(partialLine(r.error));
  if (r.continuation_id) {
    parts.push(parts.length ? `continuation_id "${r.continuation_id}"` : continuationLine(r.continuation_id));
  } else if (notSaved) {
    parts.push(`${parts.length ? '' : '[exai] '}this conversation cannot be continued: ${notSaved}`);
  }
  return parts.length ? parts.join(' · ') : undefined;
}

/** A part as the tools build it: its text and its details. */
export interface AnswerPart extends ExaiResult {
  /** This part's text: `content[0].text`. */
  content: string;
}

export function answerResult(part: AnswerPart, notSaved?: string): CallToolResult {
  const { content: text, ...details } = part;
  const content: CallToolResult['content'] = [{ type: 'text', text }];
  const status = statusLine(details, notSaved);
  if (status) content.push({ type: 'text', text: status });
  return { content, _meta: { [RESULT_META_KEY]: details } };
}
