// Chunk and completion normalisation shared by the adapters: provider JSON → OpenAI shapes that
// openai-node code reads unchanged (real tool-call indices, finish reasons in OpenAI's set).
import { isObject, type Json } from '../json.js';
import type { ChatCompletionChunk, FinishReason, ToolCall, Usage } from '../types.js';
import type { Completion, ErrorFrame } from './provider.js';

/** Per-response state of chunk normalisation: tool-call indices GLM leaves at -1. */
export interface ChunkState {
  /** The index the next new tool call gets. */
  nextTool: number;
  /** Index and id of the last tool call seen, for fragments that carry no id. */
  lastTool: number;
  lastId: string;
}

export const newChunkState = (): ChunkState => ({ nextTool: 0, lastTool: -1, lastId: '' });

/**
 * Gives every tool-call delta a real index (>= 0, stable per call): GLM sends a call that arrives
 * whole with `index: -1`, which openai-node's stream helper drops.
 */
function fixToolIndices(calls: unknown[], state: ChunkState): void {
  for (const t of calls) {
    if (!isObject(t)) continue;
    const id = typeof t.id === 'string' && t.id !== '' ? t.id : undefined;
    if (typeof t.index === 'number' && Number.isInteger(t.index) && t.index >= 0) {
      state.nextTool = Math.max(state.nextTool, t.index + 1);
    } else if (id === undefined && state.lastTool >= 0) {
      t.index = state.lastTool; // a fragment of the call in progress
    } else if (id !== undefined && id === state.lastId) {
      t.index = state.lastTool;
    } else {
      t.index = state.nextTool++;
    }
    state.lastTool = t.index as number;
    if (id !== undefined) state.lastId = id;
  }
}

/** How a provider's finish reasons map onto OpenAI's; `fail` ones make the response a failure. */
export interface FinishReasons {
  map: Readonly<Record<string, FinishReason>>;
  /** Reasons that mean the answer failed (GLM `network_error`): the runner recovers from them. */
  fail: Readonly<Record<string, string>>;
}

const OPENAI_FINISH: Readonly<Record<string, FinishReason>> = {
  stop: 'stop',
  length: 'length',
  tool_calls: 'tool_calls',
  content_filter: 'content_filter',
  function_call: 'tool_calls',
};

/** A finish reason in OpenAI's set; a value nobody mapped counts as `stop` (the original is kept). */
function mapFinish(reason: string, reasons: FinishReasons): FinishReason {
  return reasons.map[reason] ?? OPENAI_FINISH[reason] ?? 'stop';
}

export interface ChunkOptions {
  /** Moves Kimi's `choices[0].usage` to the top level. */
  usageFromChoice: boolean;
  finish: FinishReasons;
}

const hasText = (d: Json) =>
  (typeof d.content === 'string' && d.content !== '') ||
  (typeof d.reasoning_content === 'string' && d.reasoning_content !== '');

/**
 * Parses a `data:` JSON value into a chunk in place (no copy: this runs once per token): tool-call
 * indices made real, finish reasons mapped (the provider's own kept in `provider_finish_reason`).
 */
export function toChunk(
  raw: unknown,
  options: ChunkOptions,
  state: ChunkState = newChunkState(),
): ChatCompletionChunk | ErrorFrame {
  if (!isObject(raw)) throw new TypeError('chunk is not a JSON object');
  if (isObject(raw.error)) return errorFrame(raw.error, raw.request_id);
  const choices = raw.choices;
  if (!Array.isArray(choices)) throw new TypeError('chunk has no choices array');
  for (const c of choices) {
    if (!isObject(c)) throw new TypeError('chunk choice is not an object');
    if (!isObject(c.delta)) c.delta = {};
    const delta = c.delta as Json;
    if (Array.isArray(delta.tool_calls)) fixToolIndices(delta.tool_calls, state);
    if (c.finish_reason === undefined) c.finish_reason = null;
    else if (typeof c.finish_reason === 'string') {
      const reason = c.finish_reason;
      const failure = options.finish.fail[reason];
      if (failure !== undefined) {
        // The text of this chunk is kept; the stream then ends unfinished, which the runner recovers.
        if (hasText(delta)) c.finish_reason = null;
        else return { error: { code: reason, message: failure } };
      } else {
        const mapped = mapFinish(reason, options.finish);
        if (mapped !== reason) {
          c.finish_reason = mapped;
          c.provider_finish_reason = reason;
        }
      }
    }
    if (options.usageFromChoice && isObject(c.usage) && raw.usage == null) {
      raw.usage = c.usage;
      delete c.usage;
    }
  }
  raw.object = 'chat.completion.chunk';
  return raw as unknown as ChatCompletionChunk;
}

/** GLM puts the request id beside the error: `{"error":{...},"request_id":"..."}`. */
function errorFrame(e: Json, requestId: unknown): ErrorFrame {
  return {
    error: {
      message: typeof e.message === 'string' ? e.message : JSON.stringify(e),
      ...(e.code !== undefined ? { code: String(e.code) } : {}),
      ...(typeof e.type === 'string' ? { type: e.type } : {}),
    },
    ...(typeof requestId === 'string' ? { requestId } : {}),
  };
}

export function toCompletion(raw: unknown, finish: FinishReasons): Completion {
  if (!isObject(raw) || !Array.isArray(raw.choices)) throw new TypeError('completion has no choices array');
  const choice = raw.choices[0];
  const message = isObject(choice) && isObject(choice.message) ? choice.message : {};
  const usage = isObject(raw.usage)
    ? (raw.usage as Usage)
    : isObject(choice) && isObject(choice.usage)
      ? (choice.usage as Usage)
      : null;
  const reason = isObject(choice) && typeof choice.finish_reason === 'string' ? choice.finish_reason : null;
  const failure = reason === null ? undefined : finish.fail[reason];
  const mapped = reason === null || failure !== undefined ? reason : mapFinish(reason, finish);
  const calls = Array.isArray(message.tool_calls) ? (message.tool_calls as ToolCall[]) : [];
  return {
    id: typeof raw.id === 'string' ? raw.id : '',
    created: typeof raw.created === 'number' ? raw.created : Math.floor(Date.now() / 1000),
    model: typeof raw.model === 'string' ? raw.model : '',
    content: typeof message.content === 'string' ? message.content : '',
    reasoning: typeof message.reasoning_content === 'string' ? message.reasoning_content : '',
    toolCalls: calls,
    usage,
    finishReason: mapped,
    ...(reason !== null && mapped !== reason ? { providerFinishReason: reason } : {}),
    ...(failure !== undefined ? { failure: { code: reason as string, message: failure } } : {}),
  };
}
