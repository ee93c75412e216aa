// EXAI_MAX_OUTPUT_BYTES: the chunk that crosses the limit is trimmed on a character boundary and
// finishes with "length"; anything after it is emptied.
import type { ChatCompletionChunk } from '../types.js';

export class OutputLimit {
  private bytes = 0;
  /** True once the answer has been cut. */
  reached = false;

  constructor(readonly maxBytes: number) {}

  /** Trims `chunk` in place so that content plus reasoning never exceed the limit. */
  apply(chunk: ChatCompletionChunk): void {
    const choice = chunk.choices[0];
    if (!choice) return;
    const delta = choice.delta;
    for (const key of ['reasoning_content', 'content'] as const) {
      const text = delta[key];
      if (!text) continue;
      if (this.reached) {
        delta[key] = '';
        continue;
      }
      const size = Buffer.byteLength(text);
      if (this.bytes + size > this.maxBytes) {
        delta[key] = truncateUtf8(text, this.maxBytes - this.bytes);
        this.bytes = this.maxBytes;
        this.reached = true;
      } else this.bytes += size;
    }
    if (this.reached) choice.finish_reason = 'length';
  }
}

/** The longest prefix of `text` that fits in `bytes` UTF-8 bytes, never splitting a character. */
export function truncateUtf8(text: string, bytes: number): string {
  if (bytes <= 0) return '';
  const buf = Buffer.from(text, 'utf8');
  if (buf.length <= bytes) return text;
  let end = bytes;
  // Step back over continuation bytes (10xxxxxx) to the start of the cut character.
  while (end > 0 && ((buf[end] ?? 0) & 0xc0) === 0x80) end--;
  return buf.subarray(0, end).toString('utf8');
}
