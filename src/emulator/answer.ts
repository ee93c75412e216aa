// What the emulator answers to a request: reasoning, content, tool calls and finish reason,
// including continuation of a prefilled assistant message. Pure, so tests compute the same text.

import { isObject, type Json } from '../json.js';
import { findModel } from '../providers/catalog.js';
import type { ChatCompletionCreateParams, ProviderName, ToolCall } from '../types.js';
import {
  answerPieces,
  fnv1a,
  fragments,
  hex,
  prng,
  reasoningText,
  tokenize,
  tokenizePieces,
  tokensAfter,
  toolPreamble,
} from './text.js';

export const DEFAULT_WORDS = 60;
const REASONING_WORDS = 25;

export type FinishReason = 'stop' | 'length' | 'tool_calls';

export interface EmulatorAnswer {
  content: string;
  reasoning: string;
  toolCalls: ToolCall[];
  finishReason: FinishReason;
}

/** An answer plus what the wire layer needs to stream it. */
export interface AnswerPlan extends EmulatorAnswer {
  contentTokens: string[];
  reasoningTokens: string[];
  /** Tool-call argument fragments, per call (empty when the call arrives whole). */
  argumentFragments: string[][];
  /** The request ended with an assistant prefill that this answer continues. */
  continuation: boolean;
  promptTokens: number;
}

export type AnswerRequest = ChatCompletionCreateParams & Record<string, unknown>;

/** The text of a message's content, whether a string or an array of `{type:'text', text}` parts. */
function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content.map((p) => (isObject(p) && typeof p.text === 'string' ? p.text : '')).join('');
  }
  return '';
}

/**
 * The prefix a request asks to continue, or undefined. Kimi continues only a trailing assistant
 * message marked `partial: true`; GLM treats any trailing assistant message as a prefill.
 */
export function continuationPrefix(provider: ProviderName, messages: readonly unknown[]): string | undefined {
  const last = messages[messages.length - 1];
  if (!isObject(last) || last.role !== 'assistant' || typeof last.content !== 'string') return undefined;
  if (provider === 'kimi' && last.partial !== true) return undefined;
  return last.content;
}

// The seed covers what the conversation says, not how it is serialised, so a client that orders
// keys differently or adds `reasoning_content` to past turns still gets the same answer.
function seedOf(model: string, messages: readonly unknown[]): string {
  const canonical = messages.map((m) => {
    if (!isObject(m)) return null;
    const calls = Array.isArray(m.tool_calls)
      ? m.tool_calls.map((c) =>
          isObject(c) && isObject(c.function) ? [c.function.name, c.function.arguments] : null,
        )
      : [];
    return [m.role, textOf(m.content), m.tool_call_id ?? null, calls];
  });
  return `${model}\n${JSON.stringify(canonical)}`;
}

/** Models the emulator answers without reasoning, so tests have a plain GLM model (the real one is hybrid). */
const PLAIN_MODELS = new Set(['glm-4.5-flash']);

/**
 * Whether the model reasons for this request, as the 2026 APIs do: per the catalog (`always`, or
 * `optional` unless `thinking` is disabled). Unknown ids: GLM thinks by default (GLM-5 style),
 * Kimi only for the old `kimi-k2-thinking*` ids.
 */
function thinks(provider: ProviderName, model: string, body: AnswerRequest): boolean {
  if (PLAIN_MODELS.has(model)) return false;
  const disabled = isObject(body.thinking) && body.thinking.type === 'disabled';
  const mode = findModel(model)?.reasoning;
  if (mode === 'always') return true;
  if (mode === 'none') return false;
  if (mode === 'optional') return !disabled;
  return provider === 'glm' ? !disabled : model.startsWith('kimi-k2-thinking');
}

/** A plausible value for a JSON-schema property, chosen by name first, then by type. */
function sampleValue(name: string, schema: unknown): unknown {
  const s = isObject(schema) ? schema : {};
  if (Array.isArray(s.enum) && s.enum.length > 0) return s.enum[0];
  const known: Record<string, unknown> = {
    location: 'Florence, Italy',
    city: 'Florence',
    unit: 'celsius',
    query: 'token streaming',
  };
  if (name in known && (s.type === undefined || s.type === 'string')) return known[name];
  switch (s.type) {
    case 'number':
    case 'integer':
      return 2;
    case 'boolean':
      return true;
    case 'array':
      return [];
    case 'object':
      return {};
    default:
      return 'example';
  }
}

function toolArguments(parameters: unknown): string {
  const props = isObject(parameters) && isObject(parameters.properties) ? parameters.properties : {};
  const args: Json = {};
  for (const [name, schema] of Object.entries(props)) args[name] = sampleValue(name, schema);
  return JSON.stringify(args);
}

/** Counts tool calls already made in the conversation: Kimi numbers its call ids globally. */
function priorToolCalls(messages: readonly unknown[]): number {
  let n = 0;
  for (const m of messages) if (isObject(m) && Array.isArray(m.tool_calls)) n += m.tool_calls.length;
  return n;
}

function toolCallFor(
  provider: ProviderName,
  body: AnswerRequest,
  messages: readonly unknown[],
  seed: string,
) {
  const tools = Array.isArray(body.tools) ? (body.tools as unknown[]) : [];
  const last = messages[messages.length - 1];
  if (tools.length === 0 || body.tool_choice === 'none' || !isObject(last) || last.role !== 'user')
    return undefined;
  const first = tools[0];
  const fn = isObject(first) && isObject(first.function) ? first.function : {};
  const name = typeof fn.name === 'string' && fn.name ? fn.name : 'tool';
  const id =
    provider === 'glm'
      ? `call_${hex(prng(fnv1a(`tool\n${seed}`)), 24)}`
      : `functions.${name}:${priorToolCalls(messages)}`;
  const call: ToolCall = {
    id,
    type: 'function',
    function: { name, arguments: toolArguments(fn.parameters) },
  };
  return call;
}

/** Everything the emulator sends for `body`, with tokens for streaming. */
export function planAnswer(
  provider: ProviderName,
  body: AnswerRequest,
  opts: { words?: number } = {},
): AnswerPlan {
  const all: unknown[] = Array.isArray(body.messages) ? body.messages : [];
  const model = typeof body.model === 'string' ? body.model : '';
  const prefix = continuationPrefix(provider, all);
  const messages = prefix === undefined ? all : all.slice(0, -1);
  const seed = seedOf(model, messages);

  const call = toolCallFor(provider, body, messages, seed);
  const pieces = call
    ? [toolPreamble(call.function.name)]
    : answerPieces(prng(fnv1a(seed)), opts.words ?? DEFAULT_WORDS);
  const full = pieces.join('');
  let tokens = tokenizePieces(pieces);
  let finishReason: FinishReason = call ? 'tool_calls' : 'stop';
  // GLM has only max_tokens; Moonshot takes max_completion_tokens (max_tokens is deprecated there).
  const max = body.max_tokens ?? body.max_completion_tokens;
  // max_tokens cuts the whole answer, so a continuation ends where the uncut answer would have.
  if (typeof max === 'number' && max > 0 && max < tokens.length) {
    tokens = tokens.slice(0, Math.floor(max));
    finishReason = 'length';
  }
  const toolCalls = call && finishReason === 'tool_calls' ? [call] : [];
  let content = finishReason === 'length' ? tokens.join('') : full;
  // Continuations never reason again; like Kimi partial mode, they do not repeat the prefix.
  const reasoning =
    prefix === undefined && thinks(provider, model, body)
      ? reasoningText(prng(fnv1a(`reasoning\n${seed}`)), REASONING_WORDS)
      : '';
  if (prefix !== undefined && content.startsWith(prefix)) {
    content = content.slice(prefix.length);
    tokens = tokensAfter(tokens, prefix.length) ?? tokenize(content);
  }

  const streamsArguments = provider === 'kimi' || body.tool_stream === true;
  const promptChars = all.reduce<number>((n, m) => n + (isObject(m) ? textOf(m.content).length : 0), 0);
  return {
    content,
    reasoning,
    toolCalls,
    finishReason,
    contentTokens: tokens,
    reasoningTokens: tokenize(reasoning),
    argumentFragments: toolCalls.map((c) => (streamsArguments ? fragments(c.function.arguments, 5) : [])),
    continuation: prefix !== undefined,
    promptTokens: Math.ceil(promptChars / 4),
  };
}

/**
 * The exact answer the emulator sends for `body`: joining the streamed content deltas gives
 * `content`. For a continuation request (trailing assistant prefill P) it is the remainder of
 * the answer to the conversation without P, when that answer starts with P.
 */
export function emulatorAnswer(
  provider: ProviderName,
  body: AnswerRequest,
  opts: { words?: number } = {},
): EmulatorAnswer {
  const { content, reasoning, toolCalls, finishReason } = planAnswer(provider, body, opts);
  return { content, reasoning, toolCalls, finishReason };
}
