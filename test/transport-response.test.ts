// What a stream reads of a response's headers: node's raw list for exai's own transport (so node
// does not parse and keep all of them for as long as the body lives), `headers` for a caller's
// transport whose body is a plain Readable.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../src/emulator/index.js';
import { APIError, createClient, createTransport, loadConfig, type Transport } from '../src/index.js';
import { redact } from '../src/log.js';
import { type HttpResponse, headersInBody, responseHeader } from '../src/providers/transport.js';
import { TEST_KEY, testEnv, user } from './helpers/setup.js';

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator();
});
afterAll(async () => {
  await emu.close();
});

const sse = (...events: unknown[]) => events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join('');
const chunk = (content: string, finish: string | null = null) => ({
  id: 'c-1',
  object: 'chat.completion.chunk',
  created: 1,
  model: 'kimi-k2-0905-preview',
  choices: [{ index: 0, delta: { role: 'assistant', content }, finish_reason: finish }],
});

/** A caller's transport that answers each request with what `answer` gives for its body, as a plain Readable. */
function readableTransport(
  answer: (body: { stream?: boolean }) => { headers: Record<string, string | string[]>; text: string },
): Transport {
  return {
    async request(req) {
      const { headers, text } = answer(JSON.parse(req.body));
      return { status: 200, headers, body: Readable.from([Buffer.from(text)]) } as unknown as HttpResponse;
    },
    close() {},
  };
}

/** A Kimi client over `transport`, no retries; at `baseURL` when given. */
function kimiClient(transport: Transport, baseURL?: string) {
  const env: Record<string, string> = { KIMI_API_KEY: TEST_KEY, EXAI_LOG_LEVEL: 'silent' };
  if (baseURL) env.KIMI_BASE_URL = baseURL;
  return createClient('kimi', { config: loadConfig({ env, dotenvDir: false }), transport, maxRetries: 0 });
}

/** What a streamed call to Kimi failed with (undefined when it succeeded). */
function failureOf(client: ReturnType<typeof createClient>): Promise<unknown> {
  return client.chat.completions
    .create({ model: 'kimi-k2-0905-preview', messages: user('hi'), stream: true })
    .then((s) => s.finalResult())
    .then(
      () => undefined,
      (e: unknown) => e,
    );
}

describe('responseHeader', () => {
  it("reads node's raw list of exai's own response whatever the case, and the parsed headers agree", async () => {
    const transport = createTransport();
    try {
      const res = await transport.request({
        url: `${emu.baseURL('glm')}/chat/completions`,
        headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'glm-4.5-flash', messages: user('hi'), stream: true }),
        signal: AbortSignal.timeout(5000),
      });
      expect(headersInBody(res)).toBe(true);
      const type = responseHeader(res, 'content-type');
      const id = responseHeader(res, 'x-request-id');
      expect(type).toMatch(/^text\/event-stream/);
      expect(id).toMatch(/^emu-\d+$/);
      expect(responseHeader(res, 'retry-after')).toBeUndefined();
      // Read once, the headers are what every reader sees: node's, parsed.
      expect(res.headers['content-type']).toBe(type);
      expect(headersInBody(res)).toBe(false);
      expect(responseHeader(res, 'x-request-id')).toBe(id);
      res.body.resume();
      await new Promise((resolve) => res.body.once('end', resolve));
    } finally {
      transport.close();
    }
  });

  it('reads `headers` of any other response, the first of an array', () => {
    const res = {
      status: 200,
      headers: { 'set-cookie': ['a', 'b'], 'content-type': 'text/event-stream' },
      body: { rawHeaders: ['Content-Type', 'text/html'] },
    } as unknown as HttpResponse;
    expect(headersInBody(res)).toBe(false);
    expect(responseHeader(res, 'set-cookie')).toBe('a');
    expect(responseHeader(res, 'content-type')).toBe('text/event-stream');
  });
});

/** A server on loopback that streams `events` as SSE under `type`, with `x-request-id: srv-1`. */
async function sseServer(type: string, events: unknown[]): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': type, 'x-request-id': 'srv-1' });
    res.end(`${sse(...events)}data: [DONE]\n\n`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** A transport over exai's own that rewrites each response with `edit`. */
function wrapping(edit: (res: HttpResponse) => HttpResponse): Transport {
  const inner = createTransport();
  return { request: async (req) => edit(await inner.request(req)), close: () => inner.close() };
}

describe("a transport that wraps exai's own", () => {
  const frame = { error: { message: 'no credit', type: 'exceeded_current_quota_error' } };

  it('may fix the content type by spreading the response (a gateway that says text/plain)', async () => {
    const server = await sseServer('text/plain', [chunk('Hello'), chunk(' there', 'stop')]);
    const transport = wrapping((res) => ({
      ...res,
      headers: { ...res.headers, 'content-type': 'text/event-stream' },
    }));
    try {
      const stream = await kimiClient(transport, server.url).chat.completions.create({
        model: 'kimi-k2-0905-preview',
        messages: user('hi'),
        stream: true,
      });
      const result = await stream.finalResult();
      expect(result.content).toBe('Hello there');
      expect(result.metadata.streamed).toBe(true);
    } finally {
      transport.close();
      await server.close();
    }
  });

  it('may replace the headers, or edit them in place, and an error frame takes its request id', async () => {
    const server = await sseServer('text/event-stream', [frame]);
    const replacing = wrapping((res) => {
      res.headers = { ...res.headers, 'x-request-id': 'wrapped-1' };
      return res;
    });
    const editing = wrapping((res) => {
      res.headers['x-request-id'] = 'wrapped-2';
      return res;
    });
    try {
      expect(await failureOf(kimiClient(replacing, server.url))).toMatchObject({ requestId: 'wrapped-1' });
      expect(await failureOf(kimiClient(editing, server.url))).toMatchObject({ requestId: 'wrapped-2' });
      // Untouched, the server's own id.
      const plain = wrapping((res) => res);
      expect(await failureOf(kimiClient(plain, server.url))).toMatchObject({ requestId: 'srv-1' });
      plain.close();
    } finally {
      replacing.close();
      editing.close();
      await server.close();
    }
  });
});

describe("a transport that wraps exai's own, in other shapes", () => {
  /** Streams one answer from `server` through `transport`; the content it got. */
  async function contentThrough(transport: Transport, url: string): Promise<string> {
    const stream = await kimiClient(transport, url).chat.completions.create({
      model: 'kimi-k2-0905-preview',
      messages: user('hi'),
      stream: true,
    });
    let shown = '';
    for await (const c of stream) shown += c.choices[0]?.delta?.content ?? '';
    expect((await stream.finalResult()).metadata.streamed).toBe(true);
    return shown;
  }

  const shapes: [string, (res: HttpResponse) => HttpResponse][] = [
    ['a Proxy of the response', (res) => new Proxy(res, {})],
    ['an object made with the response as its prototype', (res) => Object.create(res)],
    [
      'a copy of its property descriptors',
      (res) => Object.defineProperties({}, Object.getOwnPropertyDescriptors(res)) as HttpResponse,
    ],
    [
      'the response with its body piped through a PassThrough',
      (res) => {
        res.body = res.body.pipe(new PassThrough()) as unknown as HttpResponse['body'];
        return res;
      },
    ],
  ];

  it.each(shapes)('may return %s, and the answer streams', async (_, edit) => {
    const server = await sseServer('text/event-stream', [chunk('Hello'), chunk(' there', 'stop')]);
    const transport = wrapping(edit);
    try {
      expect(await contentThrough(transport, server.url)).toBe('Hello there');
    } finally {
      transport.close();
      await server.close();
    }
  });

  it("may take the request's handle away and close the request through its signal", async () => {
    const server = await sseServer('text/event-stream', [chunk('Hello'), chunk(' there', 'stop')]);
    const inner = createTransport();
    const signals: AbortSignal[] = [];
    const transport: Transport = {
      request(req) {
        req.handle = undefined;
        signals.push(req.signal);
        return inner.request(req);
      },
      close: () => inner.close(),
    };
    try {
      expect(await contentThrough(transport, server.url)).toBe('Hello there');
      // The attempt's own signal, even without the handle that carried it.
      expect(signals).toHaveLength(1);
      expect(signals[0]).toBeInstanceOf(AbortSignal);
      expect(signals[0]?.aborted).toBe(false);
    } finally {
      transport.close();
      await server.close();
    }
  });
});

describe("a caller's transport with a plain Readable body", () => {
  it('streams the answer by its content type', async () => {
    const text = `${sse(chunk('Hello'), chunk(' there', 'stop'))}data: [DONE]\n\n`;
    const client = kimiClient(
      readableTransport(() => ({ headers: { 'content-type': 'text/event-stream' }, text })),
    );
    const stream = await client.chat.completions.create({
      model: 'kimi-k2-0905-preview',
      messages: user('hi'),
      stream: true,
    });
    let shown = '';
    for await (const c of stream) shown += c.choices[0]?.delta?.content ?? '';
    const result = await stream.finalResult();
    expect(shown).toBe('Hello there');
    expect(result.content).toBe('Hello there');
    expect(result.finishReason).toBe('stop');
  });

  it("an error frame takes the request id of the transport's headers", async () => {
    const frame = { error: { message: 'no credit', type: 'exceeded_current_quota_error' } };
    const headers = { 'content-type': 'text/event-stream', 'x-request-id': 'custom-7' };
    const client = kimiClient(readableTransport(() => ({ headers, text: sse(frame) })));
    const failure = await failureOf(client);
    expect(failure).toBeInstanceOf(APIError);
    expect(failure).toMatchObject({
      code: 'exceeded_current_quota_error',
      requestId: 'custom-7',
      inBand: true,
    });
  });

  it('a stream of another content type is refused by name, and the answer fetched without streaming', async () => {
    const completion = {
      id: 'c-2',
      object: 'chat.completion',
      created: 1,
      model: 'kimi-k2-0905-preview',
      choices: [{ index: 0, message: { role: 'assistant', content: 'Whole.' }, finish_reason: 'stop' }],
    };
    const client = kimiClient(
      readableTransport((body) =>
        body.stream
          ? { headers: { 'content-type': 'text/html' }, text: '<html></html>' }
          : { headers: { 'content-type': 'application/json' }, text: JSON.stringify(completion) },
      ),
    );
    const stream = await client.chat.completions.create({
      model: 'kimi-k2-0905-preview',
      messages: user('hi'),
      stream: true,
    });
    const result = await stream.finalResult();
    expect(result.content).toBe('Whole.');
    expect(result.metadata.fallback?.reason).toContain('expected text/event-stream, got "text/html"');
  });
});

describe("exai's transport", () => {
  it('an error frame still takes the request id of the response header', async () => {
    emu.script([{ type: 'error-frame', afterChunks: 0, code: 'exceeded_current_quota_error' }]);
    const transport = createTransport();
    const config = loadConfig({ env: testEnv(emu), dotenvDir: false });
    const client = createClient('kimi', { config, transport, maxRetries: 0 });
    try {
      const failure = await failureOf(client);
      expect(failure).toMatchObject({ code: 'exceeded_current_quota_error', inBand: true });
      expect((failure as APIError).requestId).toMatch(/^emu-\d+$/);
    } finally {
      transport.close();
      emu.reset();
    }
  });

  it('sends each request to its own URL when one transport serves two, in turn', async () => {
    // The transport keeps the last URL it parsed: a request to another URL must not reuse it.
    const transport = createTransport();
    const config = loadConfig({ env: testEnv(emu), dotenvDir: false });
    const glm = createClient('glm', { config, transport, maxRetries: 0 });
    const kimi = createClient('kimi', { config, transport, maxRetries: 0 });
    try {
      const from = emu.requests.length;
      for (const client of [glm, kimi, glm, kimi]) {
        const stream = await client.chat.completions.create({ messages: user('in turn'), stream: true });
        expect((await stream.finalResult()).metadata.provider).toBe(client.provider);
      }
      expect(emu.requests.slice(from).map((r) => r.path.split('/')[1])).toEqual([
        'glm',
        'kimi',
        'glm',
        'kimi',
      ]);
    } finally {
      transport.close();
    }
  });
});

describe("a client's request URL and key", () => {
  it('follow its provider config when the key or the base URL is changed between requests', async () => {
    // Both strings are made once per config and kept: a changed config must not send the old ones.
    const seen: { url: string; auth: string | undefined }[] = [];
    const transport = readableTransport(() => ({
      headers: { 'content-type': 'text/event-stream' },
      text: `${sse(chunk('ok', 'stop'))}data: [DONE]\n\n`,
    }));
    const capturing: Transport = {
      request(req) {
        seen.push({ url: req.url, auth: req.headers.authorization });
        return transport.request(req);
      },
      close() {},
    };
    const client = kimiClient(capturing, 'http://127.0.0.1:9/first');
    const ask = async () => {
      const stream = await client.chat.completions.create({ messages: user('strings'), stream: true });
      expect((await stream.finalResult()).content).toBe('ok');
    };
    await ask();
    await ask();
    const config = client.config as { apiKey?: string; baseURL: string };
    config.apiKey = 'sk-rotated-key-0002';
    await ask();
    config.baseURL = 'http://127.0.0.1:9/second';
    await ask();
    expect(seen).toEqual([
      { url: 'http://127.0.0.1:9/first/chat/completions', auth: `Bearer ${TEST_KEY}` },
      { url: 'http://127.0.0.1:9/first/chat/completions', auth: `Bearer ${TEST_KEY}` },
      { url: 'http://127.0.0.1:9/first/chat/completions', auth: 'Bearer sk-rotated-key-0002' },
      { url: 'http://127.0.0.1:9/second/chat/completions', auth: 'Bearer sk-rotated-key-0002' },
    ]);
    // The rotated key is a secret too: echoed bare (no "Bearer" before it), it is still redacted.
    expect(redact('the key sk-rotated-key-0002 was refused')).toBe('the key [redacted] was refused');
  });
});
