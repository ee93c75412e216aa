// The shapes a run ends in: its ChatResult, and a whole completion as the one chunk that carries it.
import { ExaiError } from '../errors.js';
import type { Completion } from '../providers/provider.js';
import type { ChatCompletionChunk, ChatResult } from '../types.js';
import type { Aggregator } from './aggregator.js';
import { describe } from './integrity.js';

/** What a run counts as it goes. */
export interface RunMeta {
  chunks: number;
  requests: number;
  ttftMs: number | null;
  streamed: boolean;
  recovered: boolean;
}

export function runResult(
  agg: Aggregator,
  meta: RunMeta,
  run: {
    provider: ChatResult['metadata']['provider'];
    model: string;
    durationMs: number;
    fallback: ChatResult['metadata']['fallback'];
  },
): ChatResult {
  return {
    content: agg.content,
    reasoning: agg.reasoning,
    toolCalls: agg.toolCalls,
    usage: agg.usage,
    finishReason: agg.finishReason,
    metadata: {
      provider: run.provider,
      model: agg.model || run.model,
      streamed: meta.streamed,
      chunks: meta.chunks,
      ttftMs: meta.ttftMs === null ? null : round(meta.ttftMs),
      durationMs: round(run.durationMs),
      retries: Math.max(0, meta.requests - 1),
      requests: meta.requests,
      fallback: run.fallback,
      recovered: meta.recovered,
      interrupted: false,
      ...(agg.providerFinishReason ? { providerFinishReason: agg.providerFinishReason } : {}),
    },
  };
}

/** The answer was cut at EXAI_MAX_OUTPUT_BYTES. */
export function markCut(result: ChatResult, maxOutputBytes: number): void {
  result.metadata.interrupted = true;
  result.finishReason = 'length';
  result.error = {
    code: 'output_limit',
    message: `output cut at EXAI_MAX_OUTPUT_BYTES (${maxOutputBytes} bytes)`,
  };
}

/** The answer is partial: the call failed after delivering something. */
export function markPartial(result: ChatResult, failure: unknown): void {
  result.metadata.interrupted = true;
  result.metadata.recovered = false;
  // The stream did not finish: a finish reason it may have sent (tool_calls, no call) is void.
  result.finishReason = null;
  result.error = {
    code: failure instanceof ExaiError ? failure.code : 'stream',
    message: `answer is partial: ${describe(failure)}`,
  };
}

/** A non-streamed answer as one chunk, so iterating consumers never miss it. */
export function completionChunk(c: Completion, content: string, model: string): ChatCompletionChunk {
  return {
    id: c.id,
    object: 'chat.completion.chunk',
    created: c.created,
    model: c.model || model,
    choices: [
      {
        index: 0,
        delta: {
          role: 'assistant',
          content,
          ...(c.reasoning ? { reasoning_content: c.reasoning } : {}),
          ...(c.toolCalls.length ? { tool_calls: c.toolCalls.map((t, index) => ({ ...t, index })) } : {}),
        },
        finish_reason: c.finishReason ?? 'stop',
        ...(c.providerFinishReason ? { provider_finish_reason: c.providerFinishReason } : {}),
      },
    ],
    usage: c.usage,
  };
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
