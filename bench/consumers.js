// The stream consumers the benchmarks compare, each reading the same emulator stream:
//   raw     node:http byte reader (the floor: no decoding at all)
//   lines   a bare `\n\n` splitter + JSON.parse over node:http (the floor for any client that
//           parses every chunk; no aggregation)
//   parser  eventsource-parser + JSON.parse over node:http (no aggregation)
//   openai  openai-node 6 `for await` (bench/library-consumers.js)
//   aisdk   the Vercel AI SDK: `streamText` over `@ai-sdk/openai-compatible` (Node 22+ only)
//   exai    the full library path: `for await` over a ChatStream, then `finalResult()`
// Only the modules a kind needs are imported, so a fresh child's RSS belongs to that kind alone.
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import { MODEL, messagesFor, wallNow } from './common.js';
import { libraryConsumer } from './library-consumers.js';

/** The Node 20 run's consumers (the AI SDK runs in the Node 24 run: see scenarios-node24.js). */
export const KINDS = ['raw', 'lines', 'parser', 'openai', 'exai'];

/** POST `body` as JSON; resolves with the response once it is a 200. */
export function httpPost(agent, url, body, signal) {
  return new Promise((resolve, reject) => {
    const payload = Buffer.from(JSON.stringify(body));
    const req = http.request(url, {
      method: 'POST',
      agent,
      signal,
      headers: {
        authorization: 'Bearer x',
        'content-type': 'application/json',
        accept: 'text/event-stream',
        'content-length': String(payload.length),
      },
    });
    req.once('response', (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`HTTP ${res.statusCode}`));
      } else resolve(res);
    });
    req.once('error', reject);
    req.setNoDelay(true);
    req.end(payload);
  });
}

function untilEnd(res) {
  return new Promise((resolve, reject) => {
    res.once('end', resolve);
    res.once('error', reject);
    res.once('close', () => (res.complete ? resolve() : reject(new Error('stream cut'))));
  });
}

/** Per parsed chunk, shared by the hand-written consumers: counts, delivery delay, first content. */
function tally(t0, delays) {
  const s = { chunks: 0, chars: 0, firstMs: -1 };
  s.onChunk = (chunk) => {
    s.chunks++;
    if (delays && chunk.x_emulator_sent_at) delays.push(wallNow() - chunk.x_emulator_sent_at);
    const content = chunk.choices[0]?.delta?.content;
    if (content) {
      if (s.firstMs < 0) s.firstMs = performance.now() - t0;
      s.chars += content.length;
    }
  };
  return s;
}

/** The bare splitter: events end at a blank line; only their `data: ` line is read. */
export function lineSplitter(onData) {
  let buffer = '';
  return (text) => {
    buffer += text;
    let start = 0;
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const data = buffer.indexOf('data: ', start);
      if (data >= 0 && data < end) onData(buffer.slice(data + 6, buffer.indexOf('\n', data)));
      start = end + 2;
      end = buffer.indexOf('\n\n', start);
    }
    buffer = start === 0 ? buffer : buffer.slice(start);
  };
}

async function httpConsumer(kind, url) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });
  const body = (prompt) => ({ model: MODEL, messages: messagesFor(prompt), stream: true });
  const close = () => agent.destroy();
  if (kind === 'raw') {
    return {
      close,
      async stream({ prompt = 'bench', signal } = {}) {
        const t0 = performance.now();
        const res = await httpPost(agent, url, body(prompt), signal);
        let firstMs = -1;
        let bytes = 0;
        const ended = untilEnd(res);
        res.on('data', (buf) => {
          if (firstMs < 0) firstMs = performance.now() - t0;
          bytes += buf.length;
        });
        await ended;
        return { chunks: 0, chars: 0, bytes, firstMs };
      },
    };
  }
  const feeder =
    kind === 'parser'
      ? await import('eventsource-parser').then(({ createParser }) => (onData) => {
          const parser = createParser({ onEvent: (event) => onData(event.data) });
          return (text) => parser.feed(text);
        })
      : lineSplitter;
  return {
    close,
    async stream({ prompt = 'bench', signal, delays } = {}) {
      const t0 = performance.now();
      const res = await httpPost(agent, url, body(prompt), signal);
      const s = tally(t0, delays);
      const feed = feeder((data) => {
        if (data !== '[DONE]') s.onChunk(JSON.parse(data));
      });
      res.setEncoding('utf8');
      const ended = untilEnd(res);
      res.on('data', feed);
      await ended;
      return { chunks: s.chunks, chars: s.chars, firstMs: s.firstMs };
    },
  };
}

/**
 * A consumer of `kind` for the emulator at `base` (its GLM base URL). `stream(opts)` reads one
 * answer and resolves with { chunks, chars, firstMs } where firstMs is request start → first
 * content delta (raw: first body bytes). With `opts.delays` (an object with `push`), every chunk's
 * delivery delay (receipt − x_emulator_sent_at, ms) is pushed onto it.
 */
export async function createConsumer(kind, base) {
  if (kind === 'raw' || kind === 'lines' || kind === 'parser') {
    return httpConsumer(kind, `${base}/chat/completions`);
  }
  return libraryConsumer(kind, base);
}
