// The stats line printed after an answer: only figures that mean something for how it was delivered.
import type { ChatResult } from '../types.js';

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** One line: model, time to first token, tokens/s, chunks, and anything that went wrong. */
export function statsLine(result: ChatResult): string {
  const m = result.metadata;
  const tokens = result.usage?.completion_tokens;
  const parts = [m.model];
  if (m.streamed) {
    parts.push(m.ttftMs === null ? 'ttft –' : `ttft ${Math.round(m.ttftMs)} ms`);
    const genMs = m.durationMs - (m.ttftMs ?? 0);
    // Below ~50 ms of generation a rate is noise (a whole answer in one chunk), not a speed.
    if (tokens && genMs >= 50 && m.chunks > 1) parts.push(`${((tokens * 1000) / genMs).toFixed(1)} tok/s`);
    parts.push(`${m.chunks} chunks`, seconds(m.durationMs), 'streamed');
  } else {
    // A whole answer has no first token and no chunks: the only honest figures are its size and time.
    parts.push(seconds(m.durationMs));
    if (tokens) parts.push(`${tokens} tokens`);
    parts.push('not streamed');
  }
  if (m.retries) parts.push(`${m.retries} ${m.retries === 1 ? 'retry' : 'retries'}`);
  if (m.fallback) parts.push(`fallback: ${m.fallback.reason}`);
  if (m.recovered) parts.push('recovered');
  if (m.interrupted) parts.push(`interrupted (${result.finishReason ?? 'no finish reason'})`);
  else if (result.finishReason === 'length') parts.push('cut at the token limit (finish_reason length)');
  else if (result.finishReason && result.finishReason !== 'stop')
    parts.push(`finish_reason ${result.finishReason}`);
  return parts.join(' · ');
}
