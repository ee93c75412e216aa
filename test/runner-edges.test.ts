// Stream-runner edge cases the emulator's fault script cannot produce, played by a tiny scripted SSE
// server: a finish chunk followed by a reset, [DONE] on a connection left open, a provider that
// echoes the prefill, [DONE] without finish_reason; plus consumers that stop reading or read late.
import { getEventListeners } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, emulatorAnswer, startEmulator } from '../src/emulator/index.js';
import { createClient, createTransport, loadConfig, type Transport } from '../src/index.js';
import { testClient, user } from './helpers/setup.js';

type Step = { write: string } | { reset: true } | { end: true } | { hold: true } | { last: string };
const chunk = (delta: Record<string, unknown>, finish: string | null = null) =>
  `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'kimi-k2-0905-preview', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
const text = (t: string) => ({ write: chunk({ content: t }) });
const finish = { write: chunk({}, 'stop') };
const done = { write: 'data: [DONE]\n\n' };

let server: http.Server;
let baseURL: string;
let scripts: Step[][] = [];
const bodies: Array<Record<string, unknown>> = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      bodies.push(JSON.parse(body));
      const steps = scripts.shift() ?? [text('ok'), finish, done, { end: true }];
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      // One step every few milliseconds, so the client reads the writes before a reset.
      const play = (i: number) => {
        const step = steps[i];
        if (!step || 'hold' in step) return; // hold: leave the response open
        if ('reset' in step) return void res.socket?.resetAndDestroy();
        if ('end' in step) return void res.end();
        if ('last' in step) return void res.end(step.last); // the rest of the body and its end, in one write
        res.write(step.write);
        setTimeout(() => play(i + 1), 5);
      };
      play(0);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterEach(() => {
  scripts = [];
  bodies.length = 0;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

function scripted(env: Record<string, string> = {}) {
  const transport = createTransport();
  const config = loadConfig({
    env: { KIMI_API_KEY: 'k', KIMI_BASE_URL: baseURL, EXAI_LOG_LEVEL: 'silent', ...env },
    dotenvDir: false,
  });
  const client = createClient('kimi', { config, transport, backoff: { baseMs: 1, maxMs: 5 } });
  return { client, transport };
}

async function run(env: Record<string, string> = {}) {
  const { client, transport } = scripted(env);
  const stream = await client.chat.completions.create({ messages: user('q'), stream: true });
  let shown = '';
  try {
    for await (const c of stream) shown += c.choices[0]?.delta?.content ?? '';
  } catch {
    // checked through the result
  }
  const result = await stream.finalResult();
  transport.close();
  return { result, shown };
}

describe('stream endings', () => {
  it('a reset after the finish chunk is a complete answer, not a reason to continue', async () => {
    scripts = [[text('Hello'), text(' world.'), finish, { reset: true }]];
    const { result, shown } = await run();
    expect(result.content).toBe('Hello world.');
    expect(shown).toBe('Hello world.');
    expect(result.metadata).toMatchObject({ recovered: false, interrupted: false });
    expect(bodies).toHaveLength(1);
  });

  it('[DONE] on a connection the server keeps open completes without waiting for a timeout', async () => {
    scripts = [[text('Hello'), finish, done, { hold: true }]];
    const { result } = await run({ EXAI_TOTAL_TIMEOUT_MS: '4000', EXAI_IDLE_TIMEOUT_MS: '3000' });
    expect(result.content).toBe('Hello');
    expect(result.metadata.interrupted).toBe(false);
    expect(result.error).toBeUndefined();
  });

  it('an idle timeout shorter than the first-token one fires on time after the first chunk', async () => {
    // The watchdog is only re-armed at the first chunk when the idle deadline comes first.
    scripts = [
      [text('Hello'), { hold: true }],
      [text(' world.'), finish, done, { end: true }],
    ];
    const t0 = performance.now();
    const { result, shown } = await run({
      EXAI_FIRST_TOKEN_TIMEOUT_MS: '20000',
      EXAI_IDLE_TIMEOUT_MS: '300',
    });
    expect(result.content).toBe('Hello world.');
    expect(shown).toBe(result.content);
    expect(result.metadata.recovered).toBe(true);
    // Well before the 20 s first-token deadline: the 300 ms idle deadline ended the stalled attempt.
    expect(performance.now() - t0).toBeLessThan(5000);
  });

  it("a transport of the caller's own that ignores the handle is still closed at the idle deadline", async () => {
    // It gets only url, headers, body and signal, as a transport written before the handle would.
    scripts = [
      [text('Hello'), { hold: true }],
      [text(' world.'), finish, done, { end: true }],
    ];
    const real = createTransport();
    const own: Transport = {
      request: (r) => real.request({ url: r.url, headers: r.headers, body: r.body, signal: r.signal }),
      close: () => real.close(),
    };
    const config = loadConfig({
      env: {
        KIMI_API_KEY: 'k',
        KIMI_BASE_URL: baseURL,
        EXAI_LOG_LEVEL: 'silent',
        EXAI_FIRST_TOKEN_TIMEOUT_MS: '20000',
        EXAI_IDLE_TIMEOUT_MS: '300',
        EXAI_TOTAL_TIMEOUT_MS: '8000',
      },
      dotenvDir: false,
    });
    const client = createClient('kimi', { config, transport: own, backoff: { baseMs: 1, maxMs: 5 } });
    const t0 = performance.now();
    const stream = await client.chat.completions.create({ messages: user('q'), stream: true });
    let shown = '';
    for await (const c of stream) shown += c.choices[0]?.delta?.content ?? '';
    const result = await stream.finalResult();
    own.close();
    expect(result.content).toBe('Hello world.');
    expect(shown).toBe(result.content);
    expect(result.metadata).toMatchObject({ recovered: true, requests: 2 });
    expect(performance.now() - t0).toBeLessThan(5000);
  });

  it('a consumer that stops reading as the body ends still gets its result at once', async () => {
    // More than the 256-chunk queue arrives in the read that ends the body: holding the rest back
    // for the idle consumer must not also hold back the end of the run.
    const rest = `${text('x').write.repeat(300)}${finish.write}${done.write}`;
    scripts = [[text('first'), { last: rest }]];
    const { client, transport } = scripted({ EXAI_IDLE_TIMEOUT_MS: '20000', EXAI_TOTAL_TIMEOUT_MS: '20000' });
    const stream = await client.chat.completions.create({ messages: user('q'), stream: true });
    const t0 = performance.now();
    await stream[Symbol.asyncIterator]().next(); // one chunk read, then no more reading
    const result = await stream.finalResult();
    expect(performance.now() - t0).toBeLessThan(3000);
    expect(result.content).toBe(`first${'x'.repeat(300)}`);
    expect(result.finishReason).toBe('stop');
    expect(result.metadata.interrupted).toBe(false);
    transport.close();
  });

  it("stream.signal says how the request ended: the caller's reason, or the total deadline", async () => {
    scripts = [[text('Hello'), { hold: true }]];
    const { client, transport } = scripted({ EXAI_TOTAL_TIMEOUT_MS: '300', EXAI_IDLE_TIMEOUT_MS: '5000' });
    const timedOut = await client.chat.completions.create({ messages: user('q'), stream: true });
    const partial = await timedOut.finalResult();
    expect(partial.error?.code).toBe('timeout');
    expect(timedOut.signal.reason).toMatchObject({ name: 'TimeoutError', kind: 'total' });

    scripts = [[text('Hello'), { hold: true }]];
    const caller = new AbortController();
    const cancelled = await client.chat.completions.create(
      { messages: user('q'), stream: true },
      { signal: caller.signal },
    );
    await cancelled[Symbol.asyncIterator]().next(); // 'Hello' is in
    const why = new Error('user closed the tab');
    caller.abort(why);
    const result = await cancelled.finalResult();
    expect(cancelled.signal.reason).toBe(why);
    // The run itself reports an AbortError, whatever the caller's reason was.
    expect(result.error?.code).toBe('aborted');
    transport.close();
  });

  it('[DONE] without any finish_reason is a cut stream: the answer is continued', async () => {
    scripts = [
      [text('Hello'), done, { end: true }],
      [text(' world.'), finish, done, { end: true }],
    ];
    const { result, shown } = await run();
    expect(result.content).toBe('Hello world.');
    expect(shown).toBe(result.content);
    expect(result.metadata.recovered).toBe(true);
    expect(bodies[1]?.messages).toEqual([
      { role: 'user', content: 'q' },
      { role: 'assistant', content: 'Hello', partial: true },
    ]);
  });

  it('a provider that echoes the prefill, failing mid-echo once, still yields no duplicate text', async () => {
    scripts = [
      [text('Hello'), text(' world.'), { reset: true }],
      [text('Hello'), { reset: true }],
      [text('Hello world.'), text(' More.'), finish, done, { end: true }],
    ];
    const { result, shown } = await run();
    expect(result.content).toBe('Hello world. More.');
    expect(shown).toBe(result.content);
    expect(result.metadata).toMatchObject({ recovered: true, retries: 2, requests: 3, interrupted: false });
  });
});

describe('the request budget against scripted streams', () => {
  const frame = (error: Record<string, unknown>) => ({ write: `data: ${JSON.stringify({ error })}\n\n` });

  it('a continuation that only echoes the prefix is no progress: three requests, then the partial answer', async () => {
    const echo: Step[] = [text('Hello world.'), { reset: true }];
    scripts = [[text('Hello'), text(' world.'), { reset: true }], echo, echo, echo, echo, echo];
    const { result, shown } = await run();
    expect(result.content).toBe('Hello world.');
    expect(shown).toBe(result.content);
    expect(result.metadata).toMatchObject({ requests: 3, retries: 2, interrupted: true, recovered: false });
    expect(bodies).toHaveLength(3);
  });

  it('an error frame with code network_error mid-answer is continued', async () => {
    scripts = [
      [text('Hello'), frame({ code: 'network_error', message: 'model inference failed' }), { end: true }],
      [text(' world.'), finish, done, { end: true }],
    ];
    const { result } = await run();
    expect(result.content).toBe('Hello world.');
    expect(result.metadata).toMatchObject({ requests: 2, recovered: true, interrupted: false });
  });

  it('out of credit mid-answer ends the call at once with the partial answer and the code', async () => {
    scripts = [
      [
        text('Hello'),
        frame({
          message: 'Your account is suspended due to insufficient balance',
          type: 'exceeded_current_quota_error',
        }),
        { end: true },
      ],
    ];
    const { result } = await run();
    expect(result.content).toBe('Hello');
    expect(result.metadata).toMatchObject({ requests: 1, interrupted: true });
    expect(result.error?.code).toBe('exceeded_current_quota_error');
    expect(result.error?.message).toMatch(/insufficient balance/);
  });

  it('a tool call whose id changes mid-call keeps the first id', async () => {
    const call = (delta: Record<string, unknown>) => ({ write: chunk({ tool_calls: [delta] }) });
    scripts = [
      [
        call({ index: 0, id: 'call_first', type: 'function', function: { name: 'f', arguments: '' } }),
        call({ index: 0, id: 'call_second', function: { arguments: '{"a":' } }),
        call({ index: 0, id: 'call_third', function: { arguments: '1}' } }),
        { write: chunk({}, 'tool_calls') },
        done,
        { end: true },
      ],
    ];
    const { result } = await run();
    expect(result.toolCalls).toEqual([
      { id: 'call_first', type: 'function', function: { name: 'f', arguments: '{"a":1}' } },
    ]);
  });
});

describe('re-asking from scratch', () => {
  let emu: Emulator;
  beforeAll(async () => {
    emu = await startEmulator();
  });
  afterAll(async () => {
    await emu.close();
  });
  const model = 'kimi-k2-thinking';
  const tools = [
    {
      type: 'function' as const,
      function: { name: 'lookup', parameters: { type: 'object', properties: { query: { type: 'string' } } } },
    },
  ];

  it('the reasoning of abandoned attempts is not repeated in result.reasoning', async () => {
    const { client, transport } = testClient(emu, 'kimi');
    const messages = user('think twice');
    // Role chunk + two reasoning chunks, then the connection drops; twice.
    emu.script([
      { type: 'drop', afterChunks: 3 },
      { type: 'drop', afterChunks: 3 },
    ]);
    const stream = await client.chat.completions.create({ model, messages, stream: true });
    const result = await stream.finalResult();
    const expected = emulatorAnswer('kimi', { model, messages });
    expect(expected.reasoning.length).toBeGreaterThan(0);
    expect(result.reasoning).toBe(expected.reasoning);
    expect(result.content).toBe(expected.content);
    expect(result.metadata).toMatchObject({ requests: 3, interrupted: false });
    // Nothing but reasoning was shown: each new request asks again, without a prefill.
    for (const r of emu.requests) expect(r.body?.messages).toHaveLength(1);
    transport.close();
  });

  it('a half tool call after reasoning only is asked again: the whole call, reasoning once', async () => {
    const { client, transport } = testClient(emu, 'kimi');
    const messages = user('look it up');
    emu.reset();
    emu.script([{ type: 'break-tool-call', afterToolDeltas: 2, noText: true }]);
    const stream = await client.chat.completions.create({ model, messages, tools, stream: true });
    const result = await stream.finalResult();
    const expected = emulatorAnswer('kimi', { model, messages, tools });
    expect(result.toolCalls).toEqual(expected.toolCalls);
    expect(result.reasoning).toBe(expected.reasoning);
    expect(result.finishReason).toBe('tool_calls');
    expect(result.metadata).toMatchObject({ requests: 2, interrupted: false });
    transport.close();
  });
});

describe('consumers that stop reading', () => {
  let emu: Emulator;
  beforeAll(async () => {
    emu = await startEmulator();
  });
  afterAll(async () => {
    await emu.close();
  });

  it('an unread stream that is aborted settles with its partial answer and closes the socket', async () => {
    const { client, transport } = testClient(emu, 'glm');
    emu.script([{ type: 'none', words: 20_000 }]);
    const stream = await client.chat.completions.create({
      model: 'glm-4.5-flash',
      messages: user('x'),
      stream: true,
    });
    await new Promise((r) => setTimeout(r, 200));
    stream.abort();
    const result = await stream.finalResult();
    expect(result.metadata.interrupted).toBe(true);
    expect(result.error?.code).toBe('aborted');
    transport.close();
    await expect.poll(() => emu.openSockets(), { timeout: 2000 }).toBe(0);
  });

  it('a consumer that pauses and then aborts gets the partial answer', async () => {
    const { client, transport } = testClient(emu, 'kimi');
    emu.script([{ type: 'none', words: 20_000 }]);
    const controller = new AbortController();
    const stream = await client.chat.completions.create(
      { model: 'kimi-k2-0905-preview', messages: user('y'), stream: true },
      { signal: controller.signal },
    );
    const it = stream[Symbol.asyncIterator]();
    await it.next();
    await new Promise((r) => setTimeout(r, 200));
    controller.abort();
    const result = await stream.finalResult();
    expect(result.metadata.interrupted).toBe(true);
    transport.close();
  });

  it('finalResult() called before iterating still lets the loop see every chunk', async () => {
    const { client, transport } = testClient(emu, 'glm');
    const messages = user('result first');
    const stream = await client.chat.completions.create({ model: 'glm-4.5-flash', messages, stream: true });
    const pending = stream.finalResult();
    let shown = '';
    for await (const c of stream) shown += c.choices[0]?.delta?.content ?? '';
    const result = await pending;
    expect(shown).toBe(emulatorAnswer('glm', { model: 'glm-4.5-flash', messages }).content);
    expect(result.content).toBe(shown);
    transport.close();
  });

  it('many streams under one long-lived signal leave no abort listeners behind', async () => {
    const { client, transport } = testClient(emu, 'glm');
    const appSignal = new AbortController().signal;
    for (let i = 0; i < 5; i++) {
      const s = await client.chat.completions.create(
        { messages: user(`s${i}`), stream: true },
        { signal: appSignal },
      );
      await s.finalResult();
    }
    await new Promise((r) => setTimeout(r, 10));
    expect(getEventListeners(appSignal, 'abort')).toHaveLength(0);
    transport.close();
  });
});
