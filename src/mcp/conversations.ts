// Conversations behind `continuation_id`: the turns of earlier `chat` calls, kept in the store, and
// the messages a continuation sends — as many of the newest turns as fit the model's context window.
import { UsageError } from '../errors.js';
import { findModel, MODELS } from '../providers/catalog.js';
import type { Store } from '../store/index.js';
import type { ChatMessage, ProviderName } from '../types.js';
import type { HistoryInfo } from './result.js';

export interface Turn {
  user: string;
  assistant: string;
  /** Kept for thinking models: providers want earlier reasoning back with its answer. */
  reasoning?: string;
  /**
   * The turn was larger than the model's whole context window: no later request can carry it (or
   * any turn before it), so its text is not stored (a 10 MB answer is 20 MB as a JS string).
   */
  oversized?: true;
  /** Only the reasoning was that large: it is not stored, and a thinking model drops the turn. */
  reasoningOversized?: true;
}

export interface Conversation {
  v: 1;
  provider: ProviderName;
  model: string;
  system?: string;
  turns: Turn[];
}

const key = (id: string) => `exai:conversation:${id}`;
const isConversationId = (id: string) => /^c_[A-Za-z0-9_-]{16}$/.test(id);

// When the catalog does not know the model: a window every current model has.
const FALLBACK_WINDOW = 32_768;
// Tokens per message beyond its text (role, separators).
const MESSAGE_OVERHEAD = 8;

/** A conservative token estimate: about 3 UTF-8 bytes per token (English is nearer 4). */
export const estimateTokens = (text: string) => Math.ceil(Buffer.byteLength(text, 'utf8') / 3);

export async function loadConversation(store: Store, id: string, ttlS: number): Promise<Conversation> {
  const raw = isConversationId(id) ? await store.get(key(id)) : undefined;
  if (raw === undefined) {
    throw new UsageError(
      `unknown or expired continuation_id "${id}": a conversation is kept ${ttlS} s after its last ` +
        'turn; start a new one by calling chat without continuation_id',
    );
  }
  return JSON.parse(raw) as Conversation;
}

export async function saveConversation(store: Store, id: string, c: Conversation, ttlMs: number) {
  await store.set(key(id), JSON.stringify(c), ttlMs);
}

function turnCost(t: Turn, reasoning: string | undefined): number {
  return (
    estimateTokens(t.user) +
    estimateTokens(t.assistant) +
    estimateTokens(reasoning ?? '') +
    2 * MESSAGE_OVERHEAD
  );
}

/** No model in the catalog takes more than this: a turn above it fits no later request. */
const LARGEST_WINDOW = Math.max(FALLBACK_WINDOW, ...MODELS.map((m) => m.contextWindow));

/**
 * The turn as it is stored: whole, or as a marker without its text when it is larger than any
 * model's context window (a later turn may use another model), or without its reasoning when only
 * the reasoning makes it so. prepareMessages drops a marked turn, and every turn before it, where
 * it would have dropped the whole turn.
 */
export function storableTurn(turn: Turn): Turn {
  if (turnCost(turn, turn.reasoning) <= LARGEST_WINDOW) return turn;
  if (turnCost(turn, undefined) > LARGEST_WINDOW) return { user: '', assistant: '', oversized: true };
  return { user: turn.user, assistant: turn.assistant, reasoningOversized: true };
}

export interface Prepared {
  messages: ChatMessage[];
  history: HistoryInfo;
}

/**
 * The request's messages: system prompt, the newest earlier turns that fit the context window
 * (the oldest are dropped first), the new prompt.
 */
export function prepareMessages(
  earlier: readonly Turn[],
  p: { system?: string | undefined; prompt: string; model: string; maxTokens?: number | undefined },
): Prepared {
  const info = findModel(p.model);
  const window = info?.contextWindow ?? FALLBACK_WINDOW;
  const reserve = p.maxTokens ?? info?.maxOutput ?? Math.min(8192, Math.floor(window / 4));
  // Thinking models (Kimi among them) expect earlier turns' reasoning_content back.
  const keepReasoning = info !== undefined && info.reasoning !== 'none';
  let room =
    window -
    reserve -
    estimateTokens(p.prompt) -
    MESSAGE_OVERHEAD -
    (p.system ? estimateTokens(p.system) + MESSAGE_OVERHEAD : 0);
  const kept: ChatMessage[][] = [];
  for (let i = earlier.length - 1; i >= 0; i--) {
    const t = earlier[i] as Turn;
    const reasoning = keepReasoning && t.reasoning ? t.reasoning : undefined;
    const cost =
      t.oversized || (keepReasoning && t.reasoningOversized)
        ? Number.POSITIVE_INFINITY
        : turnCost(t, reasoning);
    if (cost > room) break;
    room -= cost;
    kept.unshift([
      { role: 'user', content: t.user },
      { role: 'assistant', content: t.assistant, ...(reasoning ? { reasoning_content: reasoning } : {}) },
    ]);
  }
  const messages: ChatMessage[] = [];
  if (p.system) messages.push({ role: 'system', content: p.system });
  for (const pair of kept) messages.push(...pair);
  messages.push({ role: 'user', content: p.prompt });
  return { messages, history: { turns: kept.length, droppedTurns: earlier.length - kept.length } };
}
