// Bytes → SSE `data:` payloads: a streaming UTF-8 decoder (characters split across reads survive)
// feeding eventsource-parser, which handles CRLF, comments, multi-line data and split lines.
import { StringDecoder } from 'node:string_decoder';
import { createParser, type ParseError } from 'eventsource-parser';

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

export function createSseDecoder(callbacks: SseCallbacks, maxEventChars = MAX_EVENT_CHARS): SseDecoder {
  // StringDecoder is several times cheaper per read than TextDecoder; the BOM it keeps is cut below.
  const text = new StringDecoder('utf8');
  let first = true;
  // The parser refuses input once its size cap fired; that error was already reported.
  let capped = false;
  let failed = false;
  const parser = createParser({
    onEvent: (e) => callbacks.onData(e.data, e.event),
    // Unknown fields and bad `retry:` values are ignored, as the SSE standard says; only an
    // event that outgrows the cap is a fault.
    onError: (e) => {
      if (e.type !== 'max-buffer-size-exceeded') return;
      capped = true;
      callbacks.onError(e);
    },
    maxBufferSize: maxEventChars,
  });
  return {
    push(bytes) {
      if (failed) return;
      let s = text.write(bytes as Buffer);
      if (first && s) {
        first = false;
        if (s.charCodeAt(0) === 0xfeff) s = s.slice(1);
      }
      try {
        if (s) parser.feed(s);
      } catch (error) {
        // Only the size cap may end the stream here; anything else (a bug in a chunk handler) surfaces.
        if (!capped) throw error;
        failed = true;
      }
    },
    end() {
      if (failed) return;
      // Two line feeds complete a held CR (half of a CRLF?) and end a last event that lacked its
      // blank line, so a stream cut right after its final event still delivers it.
      parser.feed(`${text.end()}\n\n`);
    },
  };
}
