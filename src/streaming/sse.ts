// Bytes → SSE `data:` payloads: a streaming UTF-8 decoder (characters split across reads survive)
// feeding eventsource-parser, which handles CRLF, comments, multi-line data and split lines.
import { StringDecoder } from 'node:string_decoder';
import { createParser, type EventSourceParser, type ParseError } from 'eventsource-parser';

export interface SseDecoder {
  /** Feeds one network read; `onData` runs synchronously for each complete event. */
  push(bytes: Uint8Array): void;
  /** Flushes a final event that lacked its blank line. */
  end(): void;
}

export interface SseCallbacks {
  onData(data: string, event: string | undefined): void;
  onError(error: ParseError): void;
}

/** Caps one buffered event: a provider that never ends a line must not exhaust memory. */
export const MAX_EVENT_CHARS = 8 * 1024 * 1024;

/** The decoder for callers: its methods also work detached (`body.on('data', decoder.push)`). */
export function createSseDecoder(callbacks: SseCallbacks, maxEventChars = MAX_EVENT_CHARS): SseDecoder {
  const decoder = new Decoder(callbacks, maxEventChars);
  return { push: (bytes) => decoder.push(bytes), end: () => decoder.end() };
}

/**
 * The decoder as one object whose methods are shared (call them as methods): what a stream
 * attempt holds, with only the parser's callbacks of its own.
 */
export class Decoder implements SseDecoder {
  // StringDecoder is several times cheaper per read than TextDecoder; the BOM it keeps is cut below.
  private readonly text = new StringDecoder('utf8');
  private first = true;
  /** The parser refuses input once its size cap fired; that error was already reported. */
  private capped = false;
  private failed = false;
  private readonly parser: EventSourceParser;

  constructor(callbacks: SseCallbacks, maxEventChars = MAX_EVENT_CHARS) {
    this.parser = createParser({
      onEvent: (e) => callbacks.onData(e.data, e.event),
      // Unknown fields and bad `retry:` values are ignored, as the SSE standard says; only an
      // event that outgrows the cap is a fault.
      onError: (e) => {
        if (e.type !== 'max-buffer-size-exceeded') return;
        this.capped = true;
        callbacks.onError(e);
      },
      maxBufferSize: maxEventChars,
    });
  }

  push(bytes: Uint8Array): void {
    if (this.failed) return;
    let s = this.text.write(bytes as Buffer);
    if (this.first && s) {
      this.first = false;
      if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);
    }
    try {
      if (s) this.parser.feed(s);
    } catch (error) {
      // Only the size cap may end the stream here; anything else (a bug in a chunk handler) surfaces.
      if (!this.capped) throw error;
      this.failed = true;
    }
  }

  end(): void {
    if (this.failed) return;
    // Two line feeds complete a held CR (half of a CRLF?) and end a last event that lacked its
    // blank line, so a stream cut right after its final event still delivers it.
    this.parser.feed(`${this.text.end()}\n\n`);
  }
}
