// What a stream reads of a response's headers: node's raw list for exai's own transport (so node
// does not parse and keep all of them for as long as the body lives), `headers` for a caller's
// transport whose body is a plain Readable.
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../src/emulator/index.js';
import { APIError, createClient, createTransport, loadConfig, type Transport } from '../src/index.js';
import { type HttpResponse, responseHeader } from '../src/providers/transport.js';
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

function kimiClient(transport: Transport) {
  const config = loadConfig({ env: { KIMI_API_KEY: TEST_KEY, EXAI_LOG_LEVEL: 'silent' }, dotenvDir: false });
  return createClient('kimi', { config, transport, maxRetries: 0 });
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
  const raw = (rawHeaders: string[], headers: Record<string, string | string[]> = {}) =>
    ({ status: 200, headers, body: { rawHeaders } }) as unknown as HttpResponse;

  it('reads the raw list whatever its case, the first of repeated headers, and nothing else', () => {
    const res = raw(['Content-Type', 'text/event-stream', 'X-Request-Id', 'a', 'x-request-id', 'b'], {
      'content-type': 'application/json',
    });
    expect(responseHeader(res, 'content-type')).toBe('text/event-stream');
    expect(responseHeader(res, 'x-request-id')).toBe('a');
    expect(responseHeader(res, 'retry-after')).toBeUndefined();
    // A name that is only a prefix or a suffix of a raw one is not it.
    expect(responseHeader(raw(['content-type-x', 'no', 'x-content-type', 'no']), 'content-type')).toBe(
      undefined,
    );
  });

  it('reads `headers` when the body has no raw list, the first of an array', () => {
    const res = { status: 200, headers: { 'set-cookie': ['a', 'b'], 'content-type': 'text/event-stream' } };
    expect(responseHeader({ ...res, body: Readable.from([]) } as unknown as HttpResponse, 'set-cookie')).toBe(
      'a',
    );
    expect(
      responseHeader({ ...res, body: Readable.from([]) } as unknown as HttpResponse, 'content-type'),
    ).toBe('text/event-stream');
  });

  it("exai's transport gives every header of the emulator's answer, and the raw list the same", async () => {
    const transport = createTransport();
    try {
      const res = await transport.request({
        url: `${emu.baseURL('glm')}/chat/completions`,
        headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'glm-4.5-flash', messages: user('hi'), stream: true }),
        signal: AbortSignal.timeout(5000),
      });
      expect(responseHeader(res, 'content-type')).toMatch(/^text\/event-stream/);
      // The lazily parsed headers are node's own, and a spread of the response still carries them.
      expect({ ...res }.headers['x-request-id']).toBe(responseHeader(res, 'x-request-id'));
      expect(res.headers['content-type']).toBe(responseHeader(res, 'content-type'));
      res.body.resume();
      await new Promise((resolve) => res.body.once('end', resolve));
    } finally {
      transport.close();
    }
  });
});

describe("a caller's transport with a plain Readable body", () => {
  it('streams the answer by its content type', async () => {
    const text = sse(chunk('Hello'), chunk(' there', 'stop')) + 'data: [DONE]\n\n';
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
});
