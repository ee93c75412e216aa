// Bytes → SSE `data:` payloads: a streaming UTF-8 decoder (characters split across reads survive)
// feeding eventsource-parser, which handles CRLF, comments, multi-line data and split lines.
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
  const text = new TextDecoder('utf-8');
  const parser = createParser({
    onEvent: (e) => callbacks.onData(e.data, e.event),
    onError: callbacks.onError,
    maxBufferSize: maxEventChars,
  });
  return {
    push(bytes) {
      const s = text.decode(bytes, { stream: true });
      if (s) parser.feed(s);
    },
    end() {
      const rest = text.decode();
      if (rest) parser.feed(rest);
      parser.reset({ consume: true });
    },
  };
}
