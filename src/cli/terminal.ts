// Terminal niceties for stderr: a spinner while waiting, dim text, and the final stats line.
// All of it switches off when stderr is not a terminal or NO_COLOR is set.
import type { ChatResult } from '../types.js';

export interface Decor {
  readonly enabled: boolean;
  dim(text: string): string;
  /** Shows (or updates) the spinner with `label`; no-op when disabled. */
  spin(label: string): void;
  /** Removes the spinner line. */
  stopSpin(): void;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

export function createDecor(stream: NodeJS.WriteStream = process.stderr, env = process.env): Decor {
  const enabled = stream.isTTY === true && !('NO_COLOR' in env && env.NO_COLOR !== undefined);
  let timer: NodeJS.Timeout | undefined;
  let frame = 0;
  let label = '';
  const draw = () => {
    stream.write(`\r\x1b[2K${FRAMES[frame++ % FRAMES.length]} ${label}`);
  };
  return {
    enabled,
    dim: (text) => (enabled ? `\x1b[2m${text}\x1b[22m` : text),
    spin(next) {
      if (!enabled) return;
      label = next;
      if (!timer) {
        timer = setInterval(draw, 80);
        timer.unref();
      }
      draw();
    },
    stopSpin() {
      if (!timer) return;
      clearInterval(timer);
      timer = undefined;
      stream.write('\r\x1b[2K');
    },
  };
}

/** One line: model, time to first token, tokens/s, chunks, and anything that went wrong. */
export function statsLine(result: ChatResult): string {
  const m = result.metadata;
  const parts = [m.model];
  parts.push(m.ttftMs === null ? 'ttft –' : `ttft ${Math.round(m.ttftMs)} ms`);
  const tokens = result.usage?.completion_tokens;
  const genMs = m.durationMs - (m.ttftMs ?? 0);
  if (tokens && genMs > 0) parts.push(`${((tokens * 1000) / genMs).toFixed(1)} tok/s`);
  parts.push(`${m.chunks} chunks`, `${(m.durationMs / 1000).toFixed(2)} s`);
  parts.push(m.streamed ? 'streamed' : 'not streamed');
  if (m.retries) parts.push(`${m.retries} ${m.retries === 1 ? 'retry' : 'retries'}`);
  if (m.fallback) parts.push(`fallback: ${m.fallback.reason}`);
  if (m.recovered) parts.push('recovered');
  if (m.interrupted) parts.push(`interrupted (${result.finishReason ?? 'no finish reason'})`);
  return parts.join(' · ');
}
