// Joins a continuation onto a partial answer without overlap. Kimi's partial mode answers only the
// new text; a provider that instead echoes the prefix is detected here and the echo is dropped.

/**
 * Filters the start of a continuation stream. While the continuation so far is a prefix of the
 * partial answer it is held back; if it turns out to repeat the whole partial answer, that
 * repetition is dropped. Otherwise the held text is released unchanged.
 */
export class EchoFilter {
  private held = '';
  private settled = false;

  constructor(private readonly partial: string) {
    // Nothing to compare with: pass everything through.
    if (partial.length === 0) this.settled = true;
  }

  /** Returns the text to deliver for this piece of continuation (possibly ''). */
  push(text: string): string {
    if (this.settled) return text;
    const held = this.held + text;
    if (held.length >= this.partial.length) {
      this.settled = true;
      this.held = '';
      return held.startsWith(this.partial) ? held.slice(this.partial.length) : held;
    }
    if (this.partial.startsWith(held)) {
      this.held = held;
      return '';
    }
    this.settled = true;
    this.held = '';
    return held;
  }

  /** At the end of the continuation: whatever is still held is genuine text. */
  flush(): string {
    this.settled = true;
    const rest = this.held;
    this.held = '';
    return rest;
  }
}

/** The whole-string form of EchoFilter, for tests and non-streaming continuations. */
export function stitch(partial: string, continuation: string): string {
  const f = new EchoFilter(partial);
  return partial + f.push(continuation) + f.flush();
}
