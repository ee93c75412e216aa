// EXAI_MAX_OUTPUT_BYTES: the chunk that crosses the limit is trimmed on a character boundary and
// finishes with "length"; anything after it is emptied.
import type { ChatCompletionChunk, ChunkDelta } from '../types.js';

export class OutputLimit {
  /** An upper bound of the bytes so far: 3 per UTF-16 unit, as no unit takes more in UTF-8. */
  private bound = 0;
  /** Exact bytes so far, counted only once the bound comes near the limit. */
  private bytes = -1;
  /** True once the answer has been cut. */
  reached = false;

  /** @param delivered the output so far, whose exact UTF-8 size is taken at most once. */
  constructor(
    readonly maxBytes: number,
    private readonly delivered: { readonly content: string; readonly reasoning: string },
  ) {}

  /** Trims `chunk` in place (before it is delivered) so that content plus reasoning fit the limit. */
  apply(chunk: ChatCompletionChunk): void {
    const choice = chunk.choices[0];
    if (!choice) return;
    const delta = choice.delta;
    const units = (delta.content?.length ?? 0) + (delta.reasoning_content?.length ?? 0);
    if (units === 0 && !this.reached) return;
    // Hot path: far below the limit nothing is counted.
    if (this.bytes < 0) {
      if (this.bound + 3 * units <= this.maxBytes) {
        this.bound += 3 * units;
        return;
      }
      this.bytes = Buffer.byteLength(this.delivered.content) + Buffer.byteLength(this.delivered.reasoning);
    }
    if (delta.reasoning_content) this.take(delta, 'reasoning_content', delta.reasoning_content);
    if (delta.content) this.take(delta, 'content', delta.content);
    if (this.reached) choice.finish_reason = 'length';
  }

  private take(delta: ChunkDelta, key: 'content' | 'reasoning_content', text: string): void {
    if (this.reached) {
      delta[key] = '';
      return;
    }
    const size = Buffer.byteLength(text);
    if (this.bytes + size > this.maxBytes) {
      delta[key] = truncateUtf8(text, this.maxBytes - this.bytes);
      this.bytes = this.maxBytes;
      this.reached = true;
    } else this.bytes += size;
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
