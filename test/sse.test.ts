// The SSE decoder against real provider bytes, the SSE line-ending/comment/BOM rules, and any chunking.
import { EventEmitter } from 'node:events';
import type { ParseError } from 'eventsource-parser';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createSseDecoder } from '../src/streaming/sse.js';
import { fixtureBytes, fixturePayloads, WIRE_FIXTURES } from './fixtures/wire.js';

interface SseEvent {
  data: string;
  event: string | undefined;
}

interface Decoded {
  events: SseEvent[];
  errors: ParseError[];
}

const utf8 = (text: string) => new TextEncoder().encode(text);

/** Pushes each piece, as separate network reads, then ends the stream (unless told not to). */
function decode(pieces: Uint8Array[], options: { maxEventChars?: number; end?: boolean } = {}): Decoded {
  const out: Decoded = { events: [], errors: [] };
  const decoder = createSseDecoder(
    {
      onData: (data, event) => out.events.push({ data, event }),
      onError: (error) => out.errors.push(error),
    },
    options.maxEventChars,
  );
  for (const piece of pieces) {
    decoder.push(piece);
    // The runner stops reading at the first error; so do we.
    if (out.errors.length > 0) return out;
  }
  if (options.end !== false) decoder.end();
  return out;
}

const decodeText = (text: string) => decode([utf8(text)]);

/** Cuts `bytes` at the given offsets (any order, duplicates allowed, clamped to the length). */
function splitAt(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const pieces: Uint8Array[] = [];
  let start = 0;
  for (const p of points) {
    pieces.push(bytes.subarray(start, p));
    start = p;
  }
  pieces.push(bytes.subarray(start));
  return pieces;
}

const byteByByte = (bytes: Uint8Array) => Array.from(bytes, (_, i) => bytes.subarray(i, i + 1));

const data = (...payloads: string[]): SseEvent[] => payloads.map((d) => ({ data: d, event: undefined }));

describe('createSseDecoder on real provider streams', () => {
  it.each(WIRE_FIXTURES)('decodes $label ($file) into its data payloads, ending in [DONE]', (fixture) => {
    const expected = fixturePayloads(fixture);
    const result = decode([fixtureBytes(fixture)]);
    expect(result.errors).toEqual([]);
    expect(result.events).toEqual(data(...expected));
    expect(expected.at(-1)).toBe('[DONE]');
  });

  it.each(WIRE_FIXTURES)('decodes $label the same when it arrives one byte per read', (fixture) => {
    const bytes = fixtureBytes(fixture);
    expect(decode(byteByByte(bytes))).toEqual(decode([bytes]));
  });

  it.each(WIRE_FIXTURES)('decodes $label the same when it is cut into two reads at any byte', (fixture) => {
    const bytes = fixtureBytes(fixture);
    const whole = decode([bytes]);
    for (let cut = 0; cut <= bytes.length; cut++) {
      expect(decode([bytes.subarray(0, cut), bytes.subarray(cut)])).toEqual(whole);
    }
  });
});

describe('createSseDecoder framing rules', () => {
  it.each([
    { name: 'LF', eol: '\n' },
    { name: 'CRLF', eol: '\r\n' },
  ])('splits events on $name line endings', ({ eol }) => {
    const result = decodeText(`data: a${eol}${eol}data: b${eol}${eol}`);
    expect(result).toEqual({ events: data('a', 'b'), errors: [] });
  });

  it('splits events on CR line endings when another line follows', () => {
    const result = decodeText('data: a\r\rdata: b\r\r: trailing comment\n');
    expect(result).toEqual({ events: data('a', 'b'), errors: [] });
  });

  // eventsource-parser holds a CR that ends a read (it may be half of CRLF); end() must complete it.
  it('delivers the last event of a CR-only stream at end() without reporting an error', () => {
    const result = decodeText('data: a\r\rdata: b\r\r');
    expect(result).toEqual({ events: data('a', 'b'), errors: [] });
  });

  it('treats CR and LF in separate reads as one CRLF line ending', () => {
    const result = decode([utf8('data: a\r'), utf8('\n\r'), utf8('\n')]);
    expect(result).toEqual({ events: data('a'), errors: [] });
  });

  it.each([
    { where: 'between events', text: ': keep-alive\n\ndata: a\n\n: keep-alive\n\ndata: b\n\n' },
    { where: 'inside an event', text: 'data: a\n: keep-alive\n\ndata: b\n:\n\n' },
    { where: 'alone in the stream', text: ': keep-alive\n\n:ping\n\n' },
  ])('ignores `:` comment lines $where', ({ text }) => {
    const expected = text.includes('data') ? data('a', 'b') : [];
    expect(decodeText(text)).toEqual({ events: expected, errors: [] });
  });

  it('joins the lines of a multi-line data field with \\n', () => {
    const result = decodeText('data: first\ndata:second\ndata:  third\ndata:\n\n');
    expect(result.events).toEqual(data('first\nsecond\n third\n'));
  });

  it('strips exactly one space after the colon', () => {
    expect(decodeText('data:  x \n\n').events).toEqual(data(' x '));
    expect(decodeText('data:x\n\n').events).toEqual(data('x'));
  });

  it('dispatches an event whose data is empty', () => {
    expect(decodeText('data:\n\ndata: \n\n').events).toEqual(data('', ''));
  });

  it('does not dispatch a blank line with no data', () => {
    expect(decodeText('\n\n\n\nevent: lonely\n\n').events).toEqual([]);
  });

  it('passes the event name of an `event:` line with its data, and forgets it after the event', () => {
    const result = decodeText('event: error\ndata: {"error":{}}\n\ndata: next\n\n');
    expect(result.events).toEqual([
      { data: '{"error":{}}', event: 'error' },
      { data: 'next', event: undefined },
    ]);
  });

  it('ignores `id:` lines without reporting an error', () => {
    expect(decodeText('id: 7\ndata: a\n\n')).toEqual({ events: data('a'), errors: [] });
  });

  it.each([
    { name: 'in the first read', pieces: [[0xef, 0xbb, 0xbf, ...utf8('data: a\n\n')]] },
    { name: 'split across reads', pieces: [[0xef], [0xbb], [0xbf, ...utf8('data: a\n\n')]] },
  ])('drops a UTF-8 byte order mark at the start of the stream $name', ({ pieces }) => {
    const result = decode(pieces.map((p) => new Uint8Array(p)));
    expect(result).toEqual({ events: data('a'), errors: [] });
  });

  it('keeps a U+FEFF that is part of the data', () => {
    expect(decodeText('data: \uFEFFa\n\n').events).toEqual(data('\uFEFFa'));
  });

  it.each([
    { name: 'CJK', text: '你好' },
    { name: 'an emoji (astral, 4 bytes)', text: '😀' },
    { name: 'a combining sequence', text: 'e\u0301👩🏽‍💻' },
    { name: 'a 3-byte symbol', text: '€' },
  ])('reassembles $name cut at every byte boundary', ({ text }) => {
    const bytes = utf8(`data: {"content":"${text}"}\n\n`);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const result = decode([bytes.subarray(0, cut), bytes.subarray(cut)]);
      expect(result).toEqual({ events: data(`{"content":"${text}"}`), errors: [] });
    }
    expect(decode(byteByByte(bytes)).events).toEqual(data(`{"content":"${text}"}`));
  });

  it('delivers events synchronously inside push, before end is called', () => {
    expect(decode([utf8('data: a\n\ndata: b\n\n')], { end: false }).events).toEqual(data('a', 'b'));
  });

  it('does not deliver an event until its blank line arrives', () => {
    expect(decode([utf8('data: a\n')], { end: false }).events).toEqual([]);
  });

  // A stream cut right after its last event (no blank line) still delivers that event at end().
  it.each([
    { name: 'ends its line', text: 'data: {"done":true}\n' },
    { name: 'lacks even its line ending', text: 'data: {"done":true}' },
  ])('flushes a final event that $name but lacks its blank line at end()', ({ text }) => {
    expect(decodeText(text).events).toEqual(data('{"done":true}'));
  });
});

describe('createSseDecoder as an API', () => {
  it('its methods work detached, as event listeners', () => {
    const events: string[] = [];
    const decoder = createSseDecoder({ onData: (d) => events.push(d), onError: () => {} });
    const body = new EventEmitter();
    body.on('data', decoder.push);
    body.on('end', decoder.end);
    body.emit('data', utf8('data: hello\n\n'));
    body.emit('data', utf8('data: bye'));
    body.emit('end');
    expect(events).toEqual(['hello', 'bye']);
  });
});

describe('createSseDecoder event size cap', () => {
  it('reports max-buffer-size-exceeded instead of buffering a line that never ends', () => {
    const decoder = { events: [] as SseEvent[], errors: [] as ParseError[] };
    const sse = createSseDecoder(
      {
        onData: (d, e) => decoder.events.push({ data: d, event: e }),
        onError: (e) => decoder.errors.push(e),
      },
      64,
    );
    sse.push(utf8('data: '));
    for (let i = 0; i < 10 && decoder.errors.length === 0; i++) sse.push(utf8('x'.repeat(10)));
    expect(decoder.events).toEqual([]);
    expect(decoder.errors.map((e) => e.type)).toEqual(['max-buffer-size-exceeded']);
  });

  it('reports an error for a multi-line event that keeps growing without its blank line', () => {
    const lines = Array.from({ length: 20 }, () => utf8('data: 0123456789\n'));
    const result = decode(lines, { maxEventChars: 100 });
    expect(result.events).toEqual([]);
    expect(result.errors.map((e) => e.type)).toEqual(['max-buffer-size-exceeded']);
  });

  it('lets events below the cap through untouched', () => {
    const result = decode([utf8('data: 0123456789\n\n'.repeat(50))], { maxEventChars: 32 });
    expect(result.errors).toEqual([]);
    expect(result.events).toHaveLength(50);
  });

  it('reports the error on the read that takes the buffered text past the cap, whatever the chunking', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 8, max: 200 }),
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 60 }),
        (cap, sizes) => {
          const errors: ParseError[] = [];
          const events: string[] = [];
          const sse = createSseDecoder(
            { onData: (d) => events.push(d), onError: (e) => errors.push(e) },
            cap,
          );
          let buffered = 0;
          for (const size of sizes) {
            sse.push(utf8('x'.repeat(size)));
            buffered += size;
            // Within the cap: silently buffered. Past it: exactly one error, and we stop reading.
            if (buffered <= cap) expect(errors).toEqual([]);
            else {
              expect(errors.map((e) => e.type)).toEqual(['max-buffer-size-exceeded']);
              break;
            }
          }
          expect(events).toEqual([]);
        },
      ),
    );
  });
});

// Arbitrary text that never contains CR or LF (one SSE line), drawn from the whole of Unicode
// plus a biased alphabet of the characters most likely to break a decoder.
const tricky = fc.constantFrom(
  '你',
  '好',
  '😀',
  '𝄞',
  'é',
  '€',
  '\u2028',
  '"',
  '\\',
  ':',
  ' ',
  '\u0000',
  '\uFEFF',
);
const lineText = fc
  .oneof(fc.string({ unit: 'binary', maxLength: 24 }), fc.string({ unit: tricky, maxLength: 24 }))
  .map((s) => s.replace(/[\r\n]/g, ''));

const jsonPayload = fc
  .oneof(
    fc.jsonValue({ stringUnit: 'binary', maxDepth: 3 }),
    lineText.map((content) => ({ choices: [{ index: 0, delta: { content } }] })),
  )
  .map((v) => JSON.stringify(v));

// A payload of several lines becomes several `data:` lines; the decoder must join them with \n.
const multiLinePayload = fc.array(lineText, { minLength: 1, maxLength: 4 }).map((lines) => lines.join('\n'));

const sseEvent = fc.record({
  data: fc.oneof(jsonPayload, multiLinePayload),
  event: fc.option(
    lineText.filter((s) => s !== ''),
    { nil: undefined },
  ),
  comment: fc.option(lineText, { nil: undefined }),
});

type GeneratedEvent = { data: string; event: string | undefined; comment: string | undefined };

/** Lines of the stream: comments, `event:`, `data:` lines, and the blank line that dispatches. */
function streamLines(events: GeneratedEvent[]): string[] {
  const lines: string[] = [];
  for (const e of events) {
    if (e.comment !== undefined) lines.push(`:${e.comment}`);
    if (e.event !== undefined) lines.push(`event: ${e.event}`);
    for (const line of e.data.split('\n')) lines.push(`data: ${line}`);
    lines.push('');
  }
  return lines;
}

/** Terminates each line; a CR ending is never followed by an LF ending (that pair is one CRLF). */
function joinLines(lines: string[], eols: string[]): string {
  let text = '';
  let previous = '';
  lines.forEach((line, i) => {
    let eol = eols[i % eols.length] ?? '\n';
    if (previous === '\r' && eol === '\n') eol = '\r\n';
    text += line + eol;
    previous = eol;
  });
  return text;
}

const cuts = fc.array(fc.nat(), { maxLength: 40 });

describe('createSseDecoder properties', () => {
  it('decodes any stream of events, cut at any byte boundaries, into exactly the same payloads', () => {
    fc.assert(
      fc.property(
        fc.array(sseEvent, { maxLength: 8 }),
        fc.constantFrom('\n', '\r\n'),
        cuts,
        (events, eol, cutPoints) => {
          const bytes = utf8(joinLines(streamLines(events), [eol]));
          const result = decode(splitAt(bytes, cutPoints));
          expect(result.errors).toEqual([]);
          expect(result.events).toEqual(events.map(({ data, event }) => ({ data, event })));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('decodes the same payloads when LF, CRLF and CR line endings are mixed in one stream', () => {
    fc.assert(
      fc.property(
        fc.array(sseEvent, { minLength: 1, maxLength: 6 }),
        fc.array(fc.constantFrom('\n', '\r\n', '\r'), { minLength: 1, maxLength: 7 }),
        cuts,
        (events, eols, cutPoints) => {
          const bytes = utf8(joinLines(streamLines(events), eols));
          const result = decode(splitAt(bytes, cutPoints));
          expect(result.errors).toEqual([]);
          expect(result.events).toEqual(events.map(({ data, event }) => ({ data, event })));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('decodes a stream fed one byte at a time like the same stream in one read', () => {
    fc.assert(
      fc.property(fc.array(sseEvent, { maxLength: 4 }), (events) => {
        const bytes = utf8(joinLines(streamLines(events), ['\n']));
        expect(decode(byteByByte(bytes))).toEqual(decode([bytes]));
      }),
      { numRuns: 100 },
    );
  });

  it('decodes a real fixture cut at any set of byte boundaries like the fixture in one read', () => {
    fc.assert(
      fc.property(fc.constantFrom(...WIRE_FIXTURES), cuts, (fixture, cutPoints) => {
        const bytes = fixtureBytes(fixture);
        expect(decode(splitAt(bytes, cutPoints))).toEqual({
          events: data(...fixturePayloads(fixture)),
          errors: [],
        });
      }),
      { numRuns: 200 },
    );
  });
});

describe('createSseDecoder tolerance', () => {
  it('ignores unknown fields and a bad retry value, as the SSE standard says', () => {
    const result = decodeText('foo: bar\nretry: soon\ndata: a\n\n');
    expect(result).toEqual({ events: data('a'), errors: [] });
  });
});
