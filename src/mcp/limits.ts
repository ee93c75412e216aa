// The MCP server's bounds, the same on every transport: message size, JSON nesting, calls running
// at once. Pure helpers plus one small counter; transports decide how to answer.
import type { JSONRPCErrorResponse } from '@modelcontextprotocol/server';

/**
 * Largest JSON-RPC message (HTTP body or stdio line). 4 MiB of prompt is about a million tokens,
 * several times the largest context window in the catalog.
 */
export const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
/** Request bodies being read at once over HTTP, in all: 8 maximal bodies. */
export const MAX_BUFFERED_BODY_BYTES = 8 * MAX_MESSAGE_BYTES;
/** Deeper JSON is refused before it reaches a parser or a validator that recurses. */
export const MAX_JSON_DEPTH = 64;
/** How long a client may keep its connection unwritable before it is cut and its calls cancelled. */
export const MAX_UNWRITABLE_MS = 120_000;

/** Progress text a call holds for a client that is not reading, before it defers to the answer. */
export const MAX_PENDING_PROGRESS_CHARS = 256 * 1024;

/** JSON-RPC error codes of our own (implementation-defined server errors, -32000..-32099). */
export const SERVER_BUSY = -32029;

/** Whether `text` nests arrays/objects deeper than `max`, by one pass that skips strings. */
export function jsonTooDeep(text: string, max = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

export type JsonRpcId = string | number | null;

/** The id of a message that may not be valid JSON-RPC: null where there is none to echo. */
export function idOf(message: unknown): JsonRpcId {
  const id = (message as { id?: unknown } | null)?.id;
  return typeof id === 'string' || typeof id === 'number' ? id : null;
}

export function rpcError(id: JsonRpcId, code: number, message: string, data?: unknown): JSONRPCErrorResponse {
  // The SDK's type wants a request id; JSON-RPC 2.0 says null where it could not be read.
  return {
    jsonrpc: '2.0',
    id: id as string,
    error: { code, message, ...(data !== undefined ? { data } : {}) },
  };
}

/** Whether a parsed message is a `tools/call` of the `chat` tool (the calls that go upstream). */
export function isChatCall(message: unknown): boolean {
  const m = message as { method?: unknown; params?: { name?: unknown } } | null;
  return m?.method === 'tools/call' && m.params?.name === 'chat' && idOf(m) !== null;
}

/**
 * Counts calls admitted by the transports; a call beyond `max` is refused at once rather than
 * queued, so a burst costs a refusal each, never a socket or a buffer.
 */
export class CallLimiter {
  private used = 0;
  constructor(readonly max: number) {}

  get inUse(): number {
    return this.used;
  }

  /** A release function (idempotent), or undefined when `max` calls are already running. */
  tryAcquire(alsoRunning = 0): (() => void) | undefined {
    if (Math.max(this.used, alsoRunning) >= this.max) return undefined;
    this.used++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used--;
    };
  }

  /** The refusal for one call: retryable, and it says which setting bounds it. */
  refusal(id: JsonRpcId): JSONRPCErrorResponse {
    return rpcError(
      id,
      SERVER_BUSY,
      `server busy: ${this.max} chat calls are already running (EXAI_MAX_CONCURRENT_CALLS=${this.max}); ` +
        'retry in a moment',
      { retryable: true, retryAfterMs: 1000 },
    );
  }
}
