// The four stream consumers the benchmarks compare, each reading the same emulator stream:
//   raw     node:http byte reader (the floor: no decoding at all)
//   parser  eventsource-parser + JSON.parse over node:http (no aggregation)
//   openai  openai-node 6 `for await` (baseline only)
//   exai    the full library path: `for await` over a ChatStream, then `finalResult()`
// Only the modules a kind needs are imported, so a fresh child's RSS belongs to that kind alone.
import http from 'node:http';
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** The built library; EXAI_BENCH_DIST points at another build (e.g. a patched copy) for A/B runs. */
export const distModule = (file) =>
  pathToFileURL(
    resolve(process.env.EXAI_BENCH_DIST ?? fileURLToPath(new URL('../dist', import.meta.url)), file),
  ).href;

export const KINDS = ['raw', 'parser', 'openai', 'exai'];
export const MODEL = 'glm-4.5-flash';

/** Milliseconds on the clock the emulator stamps `x_emulator_sent_at` with. */
export const wallNow = () => performance.timeOrigin + performance.now();

/** The request body every consumer sends (the emulator's answer depends on model + messages only). */
export const messagesFor = (prompt) => [{ role: 'user', content: prompt }];

function httpPost(agent, url, body, signal) {
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

/**
 * A consumer of `kind` for the emulator at `base` (its GLM base URL). `stream(opts)` reads one
 * answer and resolves with { chunks, chars, firstMs } where firstMs is request start → first
 * content delta (raw: first body bytes). With `opts.delays` (an array), every chunk's delivery
 * delay (receipt − x_emulator_sent_at, ms) is pushed onto it.
 */
export async function createConsumer(kind, base) {
  const url = `${base}/chat/completions`;
  if (kind === 'raw' || kind === 'parser') {
    const agent = new http.Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY });
    const body = (prompt) => ({ model: MODEL, messages: messagesFor(prompt), stream: true });
    if (kind === 'raw') {
      return {
        close: () => agent.destroy(),
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
    const { createParser } = await import('eventsource-parser');
    return {
      close: () => agent.destroy(),
      async stream({ prompt = 'bench', signal, delays } = {}) {
        const t0 = performance.now();
        const res = await httpPost(agent, url, body(prompt), signal);
        let firstMs = -1;
        let chunks = 0;
        let chars = 0;
        const parser = createParser({
          onEvent(event) {
            if (event.data === '[DONE]') return;
            const chunk = JSON.parse(event.data);
            chunks++;
            if (delays && chunk.x_emulator_sent_at) delays.push(wallNow() - chunk.x_emulator_sent_at);
            const content = chunk.choices[0]?.delta?.content;
            if (content) {
              if (firstMs < 0) firstMs = performance.now() - t0;
              chars += content.length;
            }
          },
        });
        res.setEncoding('utf8');
        const ended = untilEnd(res);
        res.on('data', (text) => parser.feed(text));
        await ended;
        return { chunks, chars, firstMs };
      },
    };
  }
  if (kind === 'openai') {
    const { default: OpenAI } = await import('openai');
    const client = new OpenAI({ apiKey: 'x', baseURL: base, maxRetries: 0 });
    return {
      close: () => {},
      async stream({ prompt = 'bench', signal, delays } = {}) {
        const t0 = performance.now();
        const stream = await client.chat.completions.create(
          { model: MODEL, messages: messagesFor(prompt), stream: true },
          { signal },
        );
        let firstMs = -1;
        let chunks = 0;
        let chars = 0;
        for await (const chunk of stream) {
          chunks++;
          if (delays && chunk.x_emulator_sent_at) delays.push(wallNow() - chunk.x_emulator_sent_at);
          const content = chunk.choices[0]?.delta?.content;
          if (content) {
            if (firstMs < 0) firstMs = performance.now() - t0;
            chars += content.length;
          }
        }
        return { chunks, chars, firstMs };
      },
    };
  }
  if (kind === 'exai') {
    const { createClient, loadConfig } = await import(distModule('index.js'));
    // The default (shared) transport, exactly as an application would use it.
    const client = createClient('glm', {
      apiKey: 'x',
      baseURL: base,
      config: loadConfig({ env: {}, dotenvDir: false }),
    });
    return {
      close: () => {},
      async stream({ prompt = 'bench', signal, delays, onChunk, onResult } = {}) {
        const t0 = performance.now();
        const stream = await client.chat.completions.create(
          { model: MODEL, messages: messagesFor(prompt), stream: true },
          { signal },
        );
        let firstMs = -1;
        let chunks = 0;
        for await (const chunk of stream) {
          chunks++;
          if (delays && chunk.x_emulator_sent_at) delays.push(wallNow() - chunk.x_emulator_sent_at);
          if (firstMs < 0 && chunk.choices[0]?.delta?.content) firstMs = performance.now() - t0;
          onChunk?.(chunk, chunks);
        }
        const result = await stream.finalResult();
        if (result.error) throw new Error(`exai: ${result.error.message}`);
        onResult?.(result);
        return { chunks, chars: result.content.length, firstMs, metaChunks: result.metadata.chunks };
      },
    };
  }
  throw new Error(`unknown consumer kind "${kind}"`);
}
