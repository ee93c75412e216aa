// Tool calls are whole or absent (DESIGN §4): the checks that make a finished response broken, and
// the error that names a tool call left out of a partial answer.

import { StreamError } from '../errors.js';
import { redact } from '../log.js';
import type { Completion } from '../providers/provider.js';
import type { ProviderName, ToolCall } from '../types.js';

/** `finish_reason: "tool_calls"` without any tool call: a broken stream (DESIGN §4). */
export class ToolCallsWithoutCall extends StreamError {}

export function toolCallsWithoutCall(provider: ProviderName): StreamError {
  return new ToolCallsWithoutCall(
    provider,
    'incomplete',
    'the response ended with finish_reason "tool_calls" but carried no tool call',
  );
}

export function incompleteToolCall(provider: ProviderName, calls: ToolCall[], cause: unknown): StreamError {
  if (cause instanceof ToolCallsWithoutCall) return cause;
  const names = calls.map((c) => `${c.function.name || 'unnamed'} (${c.id || 'no id'})`).join(', ');
  return new StreamError(
    provider,
    'incomplete',
    `the stream broke inside tool call ${names}, which is left out: ${describe(cause)}`,
  );
}

/** A completion that claims tool calls but has none is as broken as a cut stream. */
export function checkCompletion(provider: ProviderName, c: Completion): void {
  if (c.finishReason === 'tool_calls' && c.toolCalls.length === 0) throw toolCallsWithoutCall(provider);
}

export function describe(error: unknown): string {
  // Fallback reasons and log fields quote provider words, which can echo a key.
  return redact(error instanceof Error ? error.message : String(error));
}
