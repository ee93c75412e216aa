// The records of a resumable answer in the store, and its ids. One answer is five keys:
// state (what has been returned), content/reasoning (text after the first part, appended as it
// arrives), final (how it ended), and control keys (touch, cancel, alive).
import { randomBytes } from 'node:crypto';
import type { ChatMetadata, ChatResultError, ProviderName, Usage } from '../../types.js';

export const newResumeId = () => `r_${randomBytes(12).toString('base64url')}`;
export const newConversationId = () => `c_${randomBytes(12).toString('base64url')}`;

// Ids come from a client: only our own shape may become part of a store key.
export const isResumeId = (id: string) => /^r_[A-Za-z0-9_-]{16}$/.test(id);

export const answerKeys = (id: string) => ({
  state: `exai:answer:${id}:state`,
  content: `exai:answer:${id}:content`,
  reasoning: `exai:answer:${id}:reasoning`,
  final: `exai:answer:${id}:final`,
  /** Set by every `chat_resume`: an answer nobody resumes for long is abandoned. */
  touch: `exai:answer:${id}:touch`,
  cancel: `exai:answer:${id}:cancel`,
  /** Refreshed by the instance running the answer; gone when that instance is. */
  alive: `exai:answer:${id}:alive`,
});

export const allAnswerKeys = (id: string) => Object.values(answerKeys(id));

/** What the parts returned so far consumed; written by `chat` when it returns early, then by each part. */
export interface AnswerState {
  v: 1;
  provider: ProviderName;
  model: string;
  showReasoning: boolean;
  continuationId: string;
  /** UTF-8 bytes of the content key already returned. */
  cursor: number;
  reasoningCursor: number;
  /** The last progress `seq` and `progress` sent, so the next part goes on from them. */
  seq: number;
  progress: number;
  /** Parts returned so far (1 after `chat`). */
  part: number;
  /** The last part was returned. */
  completed?: boolean;
}

/** How the answer ended; written after the last text was appended. */
export interface AnswerFinal {
  finish_reason: string | null;
  usage?: Usage;
  metadata?: ChatMetadata;
  error?: ChatResultError;
  /** The request failed with nothing to show: this is the message. */
  failed?: string;
  /** Why the conversation could not be saved. */
  notSaved?: string;
}
