// The emulator speaks GLM's and Kimi's wire formats exactly, deterministically, with scripted faults.
// Talks plain node:http on purpose: the client code is tested elsewhere, against this emulator.
import http from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { planAnswer } from '../src/emulator/answer.js';
import {
  type Emulator,
  emulatorAnswer,
  type FaultSpec,
  type RequestRecord,
  startEmulator,
} from '../src/emulator/index.js';
import { answerPieces, prng, tokenize, tokenizePieces, tokensAfter } from '../src/emulator/text.js';
import type { ChatMessage, ProviderName } from '../src/types.js';

const KEY = 'sk-emu-SECRET-42';
type Body = Record<string, unknown> & { messages: ChatMessage[] };

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** The body arrived in full (false when the connection was cut). */
  complete: boolean;
}

interface Call {
  auth?: string | null;
  method?: string;
  path?: string;
  raw?: string | Buffer;
  agent?: http.Agent | false;
  /** Abort the request once the body contains this many `data:` events. */
  abortAfterEvents?: number;
}

function call(emu: Emulator, provider: ProviderName, body: unknown, o: Call = {}): Promise<Reply> {
  const url = new URL(emu.baseURL(provider) + (o.path ?? '/chat/completions'));
  const payload = o.raw ?? JSON.stringify(body);
  const headers: http.OutgoingHttpHeaders = { 'content-type': 'application/json' };
  if (o.auth !== null) headers.authorization = o.auth ?? `Bearer ${KEY}`;
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: o.method ?? 'POST', headers, agent: o.agent ?? false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (s: string) => {
        text += s;
        if (o.abortAfterEvents !== undefined && dataEvents(text).length >= o.abortAfterEvents) req.destroy();
      });
      const done = () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, complete: res.complete });
      res.on('end', done);
      res.on('close', done);
      res.on('error', () => {});
    });
    req.on('error', (e) => (o.abortAfterEvents === undefined ? reject(e) : undefined));
    req.end(o.method === 'GET' ? undefined : payload);
  });
}

/** The payloads of `data:` events (named ones like `event: error` too), comments skipped; tolerates CRLF. */
function dataEvents(text: string): string[] {
  return text
    .split(/\r?\n\r?\n/)
    .map((e) => e.replace(/^event: [^\r\n]*\r?\n/, ''))
    .filter((e) => e.startsWith('data: '))
    .map((e) => e.slice('data: '.length));
}

type Chunk = {
  id: string;
  object?: string;
  created: number;
  model: string;
  system_fingerprint?: string;
  usage?: Record<string, unknown>;
  choices: Array<{
    index: number;
    delta: Record<string, unknown> & { content?: string; reasoning_content?: string; tool_calls?: unknown[] };
    finish_reason?: string | null;
    usage?: Record<string, unknown>;
  }>;
};

function chunks(text: string): Chunk[] {
  return dataEvents(text)
    .filter((d) => d !== '[DONE]')
    .map((d) => JSON.parse(d) as Chunk);
}

const joined = (cs: Chunk[], key: 'content' | 'reasoning_content') =>
  cs.map((c) => c.choices[0]?.delta[key] ?? '').join('');

const user = (content: string): ChatMessage[] => [{ role: 'user', content }];
const ask = (model: string, extra: Record<string, unknown> = {}): Body => ({
  model,
  messages: user('Why does streaming matter?'),
  stream: true,
  ...extra,
});

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator();
});
afterAll(async () => {
  await emu.close();
});
beforeEach(() => {
  emu.reset();
  emu.setOptions({ paceMs: 0, firstChunkDelayMs: 0, words: 60, tokensPerChunk: 1 });
});

describe('GLM stream wire format', () => {
  it('repeats the role, omits finish_reason until the end, and puts usage on the finish chunk', async () => {
    const r = await call(emu, 'glm', ask('glm-4.5-flash'));
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/event-stream;charset=UTF-8');
    const events = dataEvents(r.text);
    expect(events.at(-1)).toBe('[DONE]');
    expect(r.text.endsWith('data: [DONE]\n\n')).toBe(true);
    const cs = chunks(r.text);
    const last = cs.at(-1) as Chunk;
    for (const c of cs) {
      expect(Object.keys(c)).toEqual(
        c === last
          ? ['id', 'created', 'object', 'model', 'choices', 'usage']
          : ['id', 'created', 'object', 'model', 'choices'],
      );
      expect(c.object).toBe('chat.completion.chunk');
      expect(c.id).toBe(cs[0]?.id);
      expect(c.created).toBe(cs[0]?.created);
      expect(c.system_fingerprint).toBeUndefined();
    }
    expect(cs[0]?.id).toMatch(/^\d{14}[0-9a-f]{16}$/);
    for (const c of cs.slice(0, -1)) {
      expect(c.choices[0]?.delta.role).toBe('assistant');
      expect(c.choices[0]).not.toHaveProperty('finish_reason');
    }
    expect(last.choices[0]).toEqual({
      index: 0,
      finish_reason: 'stop',
      delta: { role: 'assistant', content: '' },
    });
    const expected = emulatorAnswer('glm', ask('glm-4.5-flash'));
    expect(joined(cs, 'content')).toBe(expected.content);
    expect(joined(cs, 'reasoning_content')).toBe('');
    expect(last.usage).toEqual({
      prompt_tokens: Math.ceil('Why does streaming matter?'.length / 4),
      completion_tokens: cs.length - 1,
      total_tokens: Math.ceil('Why does streaming matter?'.length / 4) + cs.length - 1,
      prompt_tokens_details: { cached_tokens: 0 },
    });
  });

  it('streams reasoning_content before content for glm-4.6, unless thinking is disabled', async () => {
    const cs = chunks((await call(emu, 'glm', ask('glm-4.6'))).text);
    const kinds = cs
      .slice(0, -1)
      .map((c) => (c.choices[0]?.delta.reasoning_content !== undefined ? 'r' : 'c'));
    expect(kinds.join('')).toMatch(/^r+c+$/);
    const expected = emulatorAnswer('glm', ask('glm-4.6'));
    expect(expected.reasoning.length).toBeGreaterThan(0);
    expect(joined(cs, 'reasoning_content')).toBe(expected.reasoning);
    expect(cs.at(-1)?.usage?.completion_tokens_details).toEqual({
      reasoning_tokens: kinds.filter((k) => k === 'r').length,
    });

    const off = chunks((await call(emu, 'glm', ask('glm-4.6', { thinking: { type: 'disabled' } }))).text);
    expect(joined(off, 'reasoning_content')).toBe('');
    // The answer does not depend on whether the model thought first.
    expect(joined(off, 'content')).toBe(expected.content);
  });
});

describe('Kimi stream wire format', () => {
  it('sends the role only first, explicit null finish_reason, and usage inside the finishing choice', async () => {
    const r = await call(emu, 'kimi', ask('kimi-k2-0905-preview'));
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('text/event-stream');
    expect(dataEvents(r.text).at(-1)).toBe('[DONE]');
    const cs = chunks(r.text);
    for (const c of cs) {
      expect(Object.keys(c)).toEqual(['id', 'object', 'created', 'model', 'choices', 'system_fingerprint']);
      expect(c.system_fingerprint).toMatch(/^fpv0_[0-9a-f]{8}$/);
      expect(c.id).toBe(cs[0]?.id);
    }
    expect(cs[0]?.id).toMatch(/^chatcmpl-[0-9a-f]{24}$/);
    expect(cs[0]?.choices[0]).toEqual({
      index: 0,
      delta: { role: 'assistant', content: '' },
      finish_reason: null,
    });
    for (const c of cs.slice(1, -1)) {
      expect(c.choices[0]?.finish_reason).toBeNull();
      expect(c.choices[0]?.delta).not.toHaveProperty('role');
    }
    const last = cs.at(-1) as Chunk;
    expect(last.choices[0]?.delta).toEqual({});
    expect(last.choices[0]?.finish_reason).toBe('stop');
    expect(last.choices[0]?.usage).toMatchObject({ completion_tokens: cs.length - 2, cached_tokens: 0 });
    expect(last.usage).toBeUndefined();
    expect(joined(cs, 'content')).toBe(emulatorAnswer('kimi', ask('kimi-k2-0905-preview')).content);
  });

  it('streams reasoning for kimi-k2-thinking only', async () => {
    const cs = chunks((await call(emu, 'kimi', ask('kimi-k2-thinking'))).text);
    const expected = emulatorAnswer('kimi', ask('kimi-k2-thinking'));
    expect(joined(cs, 'reasoning_content')).toBe(expected.reasoning);
    expect(expected.reasoning.split(' ').length).toBeGreaterThanOrEqual(20);
    expect(emulatorAnswer('kimi', ask('moonshot-v1-8k')).reasoning).toBe('');
  });
});

describe('non-streaming answers', () => {
  it.each(['glm', 'kimi'] as const)('%s returns a chat.completion with top-level usage', async (provider) => {
    const model = provider === 'glm' ? 'glm-4.6' : 'kimi-k2-thinking';
    const body = ask(model, { stream: false });
    const r = await call(emu, provider, body);
    expect(r.headers['content-type']).toBe('application/json');
    const json = JSON.parse(r.text);
    const expected = emulatorAnswer(provider, body);
    expect(json.object).toBe('chat.completion');
    expect(json.choices[0].message).toEqual({
      role: 'assistant',
      content: expected.content,
      reasoning_content: expected.reasoning,
    });
    expect(json.choices[0].finish_reason).toBe('stop');
    expect(json.usage.total_tokens).toBe(json.usage.prompt_tokens + json.usage.completion_tokens);
  });
});

describe('deterministic answers', () => {
  it('gives the same text for the same request and different text for different requests', async () => {
    const a = chunks((await call(emu, 'kimi', ask('kimi-k2-turbo-preview'))).text);
    const b = chunks((await call(emu, 'kimi', ask('kimi-k2-turbo-preview'))).text);
    expect(joined(a, 'content')).toBe(joined(b, 'content'));
    const other = emulatorAnswer('kimi', {
      ...ask('kimi-k2-turbo-preview'),
      messages: user('Something else'),
    });
    expect(other.content).not.toBe(joined(a, 'content'));
  });

  it('writes readable sentences of about the configured length with multibyte text in every answer', () => {
    for (const words of [1, 10, 60, 300]) {
      const { content } = emulatorAnswer('glm', ask('glm-4.5-flash'), { words });
      const n = content.split(/\s+/).length;
      expect(n).toBeGreaterThanOrEqual(words);
      expect(n).toBeLessThan(words + 30);
      expect(content).toMatch(/—/);
      expect(content).toMatch(/流式/);
      expect(content).toMatch(/🚀/);
      expect(content).toMatch(/é/);
      expect(content).toMatch(/\.$/);
    }
  });

  it('splits an answer sentence by sentence into exactly the tokens of its whole text', () => {
    for (const [seed, words] of [
      [1, 1],
      [7, 60],
      [42, 5000],
    ] as const) {
      const pieces = answerPieces(prng(seed), words);
      expect(pieces.length).toBeGreaterThan(0);
      expect(tokenizePieces(pieces)).toEqual(tokenize(pieces.join('')));
    }
  });

  it('takes the tokens after a cut between two tokens as the split of the rest would give them', () => {
    const text = answerPieces(prng(9), 150).join('');
    const tokens = tokenize(text);
    const starts = new Set<number>();
    let at = 0;
    for (const t of tokens) {
      starts.add(at);
      at += t.length;
    }
    starts.add(at);
    for (let cut = 0; cut <= text.length; cut++) {
      // Between two tokens: the same tokens as splitting the rest; inside one: nothing to reuse.
      if (starts.has(cut)) expect(tokensAfter(tokens, cut)).toEqual(tokenize(text.slice(cut)));
      else expect(tokensAfter(tokens, cut)).toBeUndefined();
    }
    expect(starts.size).toBe(tokens.length + 1);
  });

  it('continues a long answer from a prefill cut between tokens or inside one', () => {
    const body = ask('kimi-k2-0905-preview');
    const whole = emulatorAnswer('kimi', body, { words: 3000 }).content;
    const tokens = tokenize(whole);
    const atToken = tokens.slice(0, 1000).join('').length;
    for (const cut of [atToken, atToken + 2]) {
      const prefill = whole.slice(0, cut);
      const messages = [...body.messages, { role: 'assistant' as const, content: prefill, partial: true }];
      const next = planAnswer('kimi', { ...body, messages }, { words: 3000 });
      expect(prefill + next.content).toBe(whole);
      expect(next.contentTokens).toEqual(tokenize(next.content));
    }
  });

  it('answers a tool whose name is 300k words long (one piece of 600k tokens)', () => {
    const name = 'w '.repeat(300_000);
    const answer = emulatorAnswer('glm', {
      ...ask('glm-4.5-flash'),
      tools: [{ type: 'function', function: { name, parameters: { type: 'object' } } }],
    });
    // Before: spreading the piece's tokens into push() overflowed the stack (a 500 from the emulator).
    expect(answer.finishReason).toBe('tool_calls');
    expect(answer.content).toContain(name);
  });

  it('groups tokens per chunk and honours per-request word overrides', async () => {
    emu.setOptions({ tokensPerChunk: 4 });
    emu.script([{ type: 'none', words: 12 }]);
    const r = await call(emu, 'glm', ask('glm-4.5-flash'));
    const cs = chunks(r.text);
    const expected = emulatorAnswer('glm', ask('glm-4.5-flash'), { words: 12 });
    expect(joined(cs, 'content')).toBe(expected.content);
    const tokens = cs.at(-1)?.usage?.completion_tokens as number;
    expect(cs.length - 1).toBe(Math.ceil(tokens / 4));
  });

  it('cuts the answer at max_tokens with finish_reason length', async () => {
    const body = ask('kimi-k2-0905-preview', { max_tokens: 5 });
    const cs = chunks((await call(emu, 'kimi', body)).text);
    expect(cs.length).toBe(1 + 5 + 1);
    expect(cs.at(-1)?.choices[0]?.finish_reason).toBe('length');
    const expected = emulatorAnswer('kimi', body);
    expect(expected.finishReason).toBe('length');
    expect(joined(cs, 'content')).toBe(expected.content);
    expect(emulatorAnswer('kimi', ask('kimi-k2-0905-preview')).content.startsWith(expected.content)).toBe(
      true,
    );
  });
});

describe('continuation', () => {
  const full = emulatorAnswer('glm', ask('glm-4.6')).content;
  const prefix = full.slice(0, 37);

  it('GLM continues any trailing assistant message with exactly the remainder and no reasoning', async () => {
    const body = {
      ...ask('glm-4.6'),
      messages: [...user('Why does streaming matter?'), { role: 'assistant', content: prefix }],
    };
    const cs = chunks((await call(emu, 'glm', body)).text);
    expect(joined(cs, 'reasoning_content')).toBe('');
    expect(joined(cs, 'content')).toBe(full.slice(prefix.length));
    expect(prefix + emulatorAnswer('glm', body as Body).content).toBe(full);
    expect(emu.requests[0]?.continuation).toBe(true);
  });

  it('Kimi continues only with partial: true', async () => {
    const kimiFull = emulatorAnswer('kimi', ask('kimi-k2-0905-preview')).content;
    const p = kimiFull.slice(0, 50);
    const messages = [
      ...user('Why does streaming matter?'),
      { role: 'assistant', content: p, partial: true },
    ];
    const cs = chunks((await call(emu, 'kimi', { ...ask('kimi-k2-0905-preview'), messages })).text);
    expect(joined(cs, 'content')).toBe(kimiFull.slice(p.length));

    const plain = [...user('Why does streaming matter?'), { role: 'assistant', content: p }];
    const whole = chunks((await call(emu, 'kimi', { ...ask('kimi-k2-0905-preview'), messages: plain })).text);
    expect(joined(whole, 'content').startsWith(p)).toBe(false);
    expect(emu.requests.map((r) => r.continuation)).toEqual([true, false]);
  });

  it('answers in full when the prefix does not match', async () => {
    const body = {
      ...ask('glm-4.6'),
      messages: [...user('Why does streaming matter?'), { role: 'assistant', content: 'Nope' }],
    };
    const cs = chunks((await call(emu, 'glm', body)).text);
    expect(joined(cs, 'content')).toBe(full);
  });
});

describe('tool calls', () => {
  const tools = [
    {
      type: 'function',
      function: {
        name: 'get_weather',
        parameters: {
          type: 'object',
          properties: { location: { type: 'string' }, unit: { type: 'string' } },
        },
      },
    },
  ];
  const args = '{"location":"Florence, Italy","unit":"celsius"}';

  it('GLM without tool_stream sends the whole call in one index -1 frame with the finish, then usage apart', async () => {
    const cs = chunks((await call(emu, 'glm', ask('glm-4.5-flash', { tools }))).text);
    const calls = cs.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toEqual({
      id: expect.stringMatching(/^call_[0-9a-f]{24}$/),
      index: -1,
      type: 'function',
      function: { name: 'get_weather', arguments: args },
    });
    const frame = cs.find((c) => c.choices[0]?.delta.tool_calls);
    expect(frame?.choices[0]?.finish_reason).toBe('tool_calls');
    expect(cs.at(-1)?.choices).toEqual([]);
    expect(cs.at(-1)?.usage?.total_tokens).toBeGreaterThan(0);
    const expected = emulatorAnswer('glm', ask('glm-4.5-flash', { tools }));
    expect(joined(cs, 'content')).toBe(expected.content);
    expect(expected.toolCalls[0]?.id).toBe((calls[0] as { id: string }).id);
  });

  it.each([
    ['kimi', 'kimi-k2-0905-preview', {}],
    ['glm', 'glm-4.6', { tool_stream: true }],
  ] as const)('%s streams argument fragments after a head delta', async (provider, model, extra) => {
    const cs = chunks((await call(emu, provider, ask(model, { tools, ...extra }))).text);
    const calls = cs.flatMap((c) => (c.choices[0]?.delta.tool_calls ?? []) as Array<Record<string, unknown>>);
    expect(calls.length).toBeGreaterThan(3);
    expect(calls[0]).toMatchObject({
      index: 0,
      type: 'function',
      function: { name: 'get_weather', arguments: '' },
    });
    if (provider === 'kimi') expect(calls[0]?.id).toBe('functions.get_weather:0');
    const rest = calls.slice(1) as Array<{ index: number; function: { arguments: string } }>;
    for (const c of rest) expect(Object.keys(c)).toEqual(['index', 'function']);
    expect(rest.map((c) => c.function.arguments).join('')).toBe(args);
    expect(cs.at(-1)?.choices[0]?.finish_reason).toBe('tool_calls');
  });
});

describe('faults', () => {
  it('drop: cuts the connection after N chunks', async () => {
    emu.script([{ type: 'drop', afterChunks: 3 }]);
    const r = await call(emu, 'glm', ask('glm-4.5-flash'));
    expect(r.complete).toBe(false);
    expect(dataEvents(r.text)).toHaveLength(3);
    await emu.waitForIdle(1000);
    expect(emu.requests[0]).toMatchObject({ outcome: 'fault', fault: { type: 'drop' } });
  });

  it.each([
    [
      'glm',
      429,
      {
        error: { code: '1305', message: 'The service may be temporarily overloaded, please try again later' },
      },
    ],
    [
      'kimi',
      429,
      {
        error: {
          message: 'The engine is currently overloaded, please try again later',
          type: 'engine_overloaded_error',
        },
      },
    ],
    ['glm', 500, { error: { code: '500', message: 'Internal Server Error' } }],
    ['kimi', 500, { error: { message: 'Internal server error', type: 'server_error' } }],
    ['kimi', 503, { error: { message: expect.any(String), type: 'server_unavailable' } }],
  ] as const)('status: %s %i answers with the provider error body', async (provider, status, body) => {
    emu.script([{ type: 'status', status, retryAfter: '2' }]);
    const model = provider === 'glm' ? 'glm-4.6' : 'kimi-k2-0905-preview';
    const r = await call(emu, provider, ask(model));
    expect(r.status).toBe(status);
    expect(r.headers['retry-after']).toBe('2');
    expect(JSON.parse(r.text)).toEqual(body);
  });

  it('stall: pauses before the first chunk or mid-stream, then completes', async () => {
    emu.script([
      { type: 'stall', ms: 30 },
      { type: 'stall', afterChunks: 2, ms: 30 },
    ]);
    for (let i = 0; i < 2; i++) {
      const cs = chunks((await call(emu, 'glm', ask('glm-4.5-flash'))).text);
      expect(joined(cs, 'content')).toBe(emulatorAnswer('glm', ask('glm-4.5-flash')).content);
    }
  });

  it('malformed: writes a broken JSON frame and ends without [DONE]', async () => {
    emu.script([{ type: 'malformed', afterChunks: 2 }]);
    const r = await call(emu, 'kimi', ask('kimi-k2-0905-preview'));
    const events = dataEvents(r.text);
    expect(events).toHaveLength(3);
    expect(events[2]).toBe('{"id":"broken", "choices":[{"delta":{"content":"x"');
    expect(r.complete).toBe(true);
  });

  it.each([
    [
      'glm',
      // GLM names the event and puts the request id beside the error.
      'event: error\ndata: {"error":{"code":"1305","message":"The service may be temporarily overloaded, please try again later"},"request_id":"frame-emu-1"}',
    ],
    [
      'kimi',
      'data: {"error":{"message":"The engine is currently overloaded, please try again later","type":"engine_overloaded_error"}}',
    ],
  ] as const)('error-frame: %s sends an in-band error frame and ends', async (provider, frame) => {
    emu.reset();
    emu.script([{ type: 'error-frame', afterChunks: 4 }]);
    const r = await call(emu, provider, ask(provider === 'glm' ? 'glm-4.6' : 'kimi-k2-0905-preview'));
    expect(r.status).toBe(200);
    const events = r.text.split(/\r?\n\r?\n/).filter(Boolean);
    expect(events).toHaveLength(5);
    expect(events[4]).toBe(frame);
    expect(dataEvents(r.text)).toHaveLength(5);
  });

  it('finish: the stream ends early with the reason asked for, then [DONE]', async () => {
    emu.reset();
    emu.script([{ type: 'finish', reason: 'network_error', afterChunks: 3 }]);
    const events = dataEvents((await call(emu, 'glm', ask('glm-4.5-flash'))).text);
    expect(events).toHaveLength(5);
    expect(JSON.parse(events[3] as string).choices[0].finish_reason).toBe('network_error');
    expect(events[4]).toBe('[DONE]');
  });

  it('error-frame and status faults carry the provider code asked for', async () => {
    emu.reset();
    emu.script([
      { type: 'error-frame', afterChunks: 0, code: '1113', requestId: 'req-x' },
      { type: 'status', status: 429, code: 'exceeded_current_quota_error' },
      { type: 'refuse-stream', mode: 'unsupported' },
    ]);
    const a = await call(emu, 'glm', ask('glm-4.6'));
    expect(a.text).toBe(
      'event: error\ndata: {"error":{"code":"1113","message":"Insufficient balance or no resource package. Please recharge."},"request_id":"req-x"}\n\n',
    );
    const b = await call(emu, 'kimi', ask('kimi-k2-0905-preview'));
    expect(b.status).toBe(429);
    expect(JSON.parse(b.text).error.type).toBe('exceeded_current_quota_error');
    const c = await call(emu, 'kimi', ask('kimi-k2-0905-preview'));
    expect(c.status).toBe(400);
    expect(JSON.parse(c.text).error.message).toMatch(/does not support streaming/);
  });

  it('no-done: sends the finish chunk but no [DONE]; truncate: ends cleanly before the finish chunk', async () => {
    emu.script([
      { type: 'no-done' },
      { type: 'truncate', afterChunks: 3 },
      { type: 'truncate', afterChunks: 9999 },
    ]);
    const a = dataEvents((await call(emu, 'kimi', ask('kimi-k2-0905-preview'))).text);
    expect(a.at(-1)).not.toBe('[DONE]');
    expect(JSON.parse(a.at(-1) as string).choices[0].finish_reason).toBe('stop');
    const b = await call(emu, 'kimi', ask('kimi-k2-0905-preview'));
    expect(b.complete).toBe(true);
    expect(dataEvents(b.text)).toHaveLength(3);
    // afterChunks past the end still stops before the finish chunk.
    const c = chunks((await call(emu, 'kimi', ask('kimi-k2-0905-preview'))).text);
    expect(c.every((x) => x.choices[0]?.finish_reason === null)).toBe(true);
    expect(joined(c, 'content')).toBe(emulatorAnswer('kimi', ask('kimi-k2-0905-preview')).content);
  });

  it('refuse-stream: json answers a whole completion, status answers 503; non-stream requests are normal', async () => {
    emu.script([
      { type: 'refuse-stream', mode: 'json' },
      { type: 'refuse-stream', mode: 'status' },
      { type: 'refuse-stream', mode: 'status' },
    ]);
    const a = await call(emu, 'glm', ask('glm-4.5-flash'));
    expect(a.headers['content-type']).toBe('application/json');
    expect(JSON.parse(a.text).choices[0].message.content).toBe(
      emulatorAnswer('glm', ask('glm-4.5-flash')).content,
    );
    const b = await call(emu, 'glm', ask('glm-4.5-flash'));
    expect(b.status).toBe(503);
    const c = await call(emu, 'glm', ask('glm-4.5-flash', { stream: false }));
    expect(c.status).toBe(200);
    expect(emu.requests.map((r) => r.fault?.type ?? null)).toEqual(['refuse-stream', 'refuse-stream', null]);
  });

  it('onlyStream faults leave non-stream requests alone; the default fault applies when the script is empty', async () => {
    emu.setDefaultFault({ type: 'status', status: 500, onlyStream: true });
    emu.script([null]);
    expect((await call(emu, 'kimi', ask('kimi-k2-0905-preview'))).status).toBe(200);
    expect((await call(emu, 'kimi', ask('kimi-k2-0905-preview'))).status).toBe(500);
    expect((await call(emu, 'kimi', ask('kimi-k2-0905-preview', { stream: false }))).status).toBe(200);
    emu.reset();
    expect((await call(emu, 'kimi', ask('kimi-k2-0905-preview'))).status).toBe(200);
    expect(emu.requests).toHaveLength(1);
  });

  it('hang: never answers; the client leaving is reported as client-closed', async () => {
    emu.script([{ type: 'hang' }]);
    const closed = new Promise<RequestRecord>((resolve) => emu.once('client-closed', resolve));
    const req = http.request(`${emu.baseURL('glm')}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}` },
      agent: false,
    });
    req.on('error', () => {});
    req.end(JSON.stringify(ask('glm-4.6')));
    await new Promise<RequestRecord>((resolve) => emu.once('request', resolve));
    req.destroy();
    const rec = await closed;
    expect(rec.outcome).toBe('client-closed');
    expect(rec.clientClosedAt).toBeGreaterThanOrEqual(rec.startedAt);
    await emu.waitForIdle(1000);
  });

  it('rejects invalid fault specs at once', () => {
    expect(() => emu.script([{ type: 'drop', afterChunks: -1 }])).toThrow(TypeError);
    expect(() => emu.setDefaultFault({ type: 'status', status: 200 })).toThrow(TypeError);
    const bad = (spec: unknown) => () => emu.script([spec as FaultSpec]);
    expect(bad({ type: 'refuse-stream', mode: 'sometimes' })).toThrow(TypeError);
    expect(bad({ type: 'error-frame', afterChunks: 0, code: 1302 })).toThrow(/code must be a string/);
    expect(bad({ type: 'break-tool-call', afterToolDeltas: -1 })).toThrow(TypeError);
    expect(bad({ type: 'drop', afterChunks: 1, sameSpot: 'yes' })).toThrow(/must be a boolean/);
  });
});

describe('client aborts', () => {
  it('notices a client closing mid-stream and stops writing', async () => {
    emu.setOptions({ paceMs: 5 });
    const closed = new Promise<RequestRecord>((resolve) => emu.once('client-closed', resolve));
    const r = await call(emu, 'kimi', ask('kimi-k2-0905-preview'), { abortAfterEvents: 2 });
    expect(r.complete).toBe(false);
    const rec = await closed;
    expect(rec).toMatchObject({ outcome: 'client-closed', stream: true });
    await emu.waitForIdle(1000);
    expect(rec.endedAt).toBe(rec.clientClosedAt);
  });
});

describe('requests the providers reject', () => {
  it.each([
    ['glm', { error: { code: '1002', message: expect.stringMatching(/^Invalid Authentication Token/) } }],
    ['kimi', { error: { message: 'Invalid Authentication', type: 'invalid_authentication_error' } }],
  ] as const)('%s answers 401 without a bearer key', async (provider, body) => {
    for (const auth of [null, 'Bearer ', 'Basic abc']) {
      const r = await call(emu, provider, ask('glm-4.6'), { auth });
      expect(r.status).toBe(401);
      expect(JSON.parse(r.text)).toEqual(body);
    }
    expect(emu.requests.every((r) => !r.hasAuth)).toBe(true);
  });

  it('never stores or echoes the key', async () => {
    await call(emu, 'glm', ask('glm-4.6'));
    await call(emu, 'kimi', ask('nope'));
    expect(JSON.stringify(emu.requests)).not.toContain(KEY);
    expect(emu.requests[0]?.hasAuth).toBe(true);
  });

  it('answers unknown models the way each provider does', async () => {
    const g = await call(emu, 'glm', ask('kimi-k2-thinking'));
    expect(g.status).toBe(400);
    expect(JSON.parse(g.text)).toEqual({
      error: { code: '1211', message: 'Unknown Model, please check the model code.' },
    });
    const k = await call(emu, 'kimi', ask('gpt-4o'));
    expect(k.status).toBe(404);
    expect(JSON.parse(k.text)).toEqual({
      error: { message: 'Not found the model gpt-4o or Permission denied', type: 'resource_not_found_error' },
    });
  });

  it('answers 400 to bad JSON and empty messages, 413 to huge bodies, 404 elsewhere', async () => {
    expect((await call(emu, 'glm', null, { raw: '{"model":' })).status).toBe(400);
    const empty = await call(emu, 'kimi', { model: 'kimi-k2-0905-preview', messages: [] });
    expect(empty.status).toBe(400);
    expect(JSON.parse(empty.text).error.type).toBe('invalid_request_error');
    const huge = await call(emu, 'glm', null, { raw: Buffer.alloc(8 * 1024 * 1024 + 1, 32) });
    expect(huge.status).toBe(413);
    expect((await call(emu, 'glm', ask('glm-4.6'), { path: '/embeddings' })).status).toBe(404);
    expect((await call(emu, 'kimi', null, { method: 'GET' })).status).toBe(404);
    expect(emu.requests.map((r) => r.status)).toEqual([400, 400, 413, 404, 404]);
  });

  it('lists models', async () => {
    const r = await call(emu, 'kimi', null, { method: 'GET', path: '/models' });
    const list = JSON.parse(r.text);
    expect(list.object).toBe('list');
    expect(list.data.map((m: { id: string }) => m.id)).toEqual([
      'kimi-k2.6',
      'kimi-k3',
      'kimi-k2.7-code',
      'kimi-k2.7-code-highspeed',
    ]);
  });
});

describe('framing options', () => {
  it('uses CRLF, keep-alive comments and send timestamps when asked', async () => {
    emu.setOptions({ crlf: true, keepAliveComments: true, timestamps: true });
    const r = await call(emu, 'glm', ask('glm-4.5-flash', { max_tokens: 3 }));
    expect(r.text.startsWith('data: {')).toBe(true);
    expect(r.text).not.toMatch(/[^\r]\n/);
    expect(r.text.split(': keep-alive\r\n\r\n')).toHaveLength(4);
    const cs = chunks(r.text) as Array<Chunk & { x_emulator_sent_at: number }>;
    expect(cs.every((c) => c.x_emulator_sent_at > 1e12)).toBe(true);
    emu.setOptions({ crlf: false, keepAliveComments: false, timestamps: false });
  });

  it('rejects bad options', () => {
    expect(() => emu.setOptions({ tokensPerChunk: 0 })).toThrow(TypeError);
  });
});

describe('connections', () => {
  it('reports reused keep-alive sockets, open and total socket counts', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const before = emu.totalSockets();
    await call(emu, 'glm', ask('glm-4.5-flash'), { agent });
    await call(emu, 'glm', ask('glm-4.5-flash'), { agent });
    expect(emu.requests[0]?.socketId).toBe(emu.requests[1]?.socketId);
    expect(emu.totalSockets()).toBe(before + 1);
    expect(emu.openSockets()).toBeGreaterThanOrEqual(1);
    agent.destroy();
    await emu.waitForIdle(1000);
    expect(emu.requests.every((r) => r.outcome === 'completed' && r.endedAt !== undefined)).toBe(true);
  });

  it('close() ends hanging responses and frees the port', async () => {
    const own = await startEmulator();
    own.setDefaultFault({ type: 'hang' });
    const pending = call(own, 'glm', ask('glm-4.6')).catch(() => null);
    await new Promise((resolve) => own.once('request', resolve));
    await own.close();
    await pending;
    expect(own.openSockets()).toBe(0);
  });
});

describe('2026 wire shapes and bounds', () => {
  it('keeps only the last maxRecords requests, while seq keeps counting', async () => {
    const own = await startEmulator({ maxRecords: 3 });
    for (let i = 0; i < 5; i++) await call(own, 'glm', ask('glm-4.5-flash', { stream: false }));
    expect(own.requests.map((r) => r.seq)).toEqual([3, 4, 5]);
    await own.close();
  });

  it('sends usage in a choices: [] chunk after the finish when asked', async () => {
    const own = await startEmulator({ separateUsage: true });
    for (const provider of ['glm', 'kimi'] as const) {
      const model = provider === 'glm' ? 'glm-4.5-flash' : 'kimi-k2.6';
      const cs = chunks((await call(own, provider, ask(model))).text);
      const finish = cs.at(-2);
      expect(finish?.choices[0]?.finish_reason).toBe('stop');
      expect(cs.at(-1)?.choices).toEqual([]);
      expect(cs.at(-1)?.usage?.total_tokens).toBeGreaterThan(0);
      // Kimi keeps usage in the choice too; GLM only sends it apart.
      const inChoice = (finish?.choices[0] as unknown as { usage?: unknown } | undefined)?.usage;
      expect(inChoice !== undefined).toBe(provider === 'kimi');
      expect(finish?.usage).toBeUndefined();
    }
    await own.close();
  });

  it('reasons by default for the GLM-5 generation and Kimi K2.6, and always for K3 and GLM-5.3', () => {
    const reasoning = (provider: ProviderName, model: string, extra: Record<string, unknown> = {}) =>
      emulatorAnswer(provider, ask(model, extra)).reasoning.length > 0;
    expect(reasoning('glm', 'glm-5.1')).toBe(true);
    expect(reasoning('glm', 'glm-5.1', { thinking: { type: 'disabled' } })).toBe(false);
    expect(reasoning('glm', 'glm-5.3', { thinking: { type: 'disabled' } })).toBe(true);
    expect(reasoning('glm', 'glm-6-preview')).toBe(true);
    expect(reasoning('kimi', 'kimi-k2.6')).toBe(true);
    expect(reasoning('kimi', 'kimi-k2.6', { thinking: { type: 'disabled' } })).toBe(false);
    expect(reasoning('kimi', 'kimi-k3', { thinking: { type: 'disabled' } })).toBe(true);
    expect(reasoning('kimi', 'kimi-k2-0905-preview')).toBe(false);
  });

  it('ends a stream with a scripted finish reason after N chunks', async () => {
    emu.script([{ type: 'finish', reason: 'network_error', afterChunks: 3 }]);
    const cs = chunks((await call(emu, 'glm', ask('glm-4.5-flash'))).text);
    expect(cs).toHaveLength(4);
    expect(cs.at(-1)?.choices[0]?.finish_reason).toBe('network_error');
    expect(() => emu.script([{ type: 'finish', afterChunks: 1 } as never])).toThrow(/needs a reason/);
  });

  it('serves the GLM Coding Plan path and a 404 for a provider without a model listing', async () => {
    const own = await startEmulator({ modelListing: { glm: null } });
    const res = await fetch(`${own.baseURL('glm', 'coding')}/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify(ask('glm-4.5-flash', { stream: false })),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { object: string }).object).toBe('chat.completion');
    expect(own.requests.at(-1)?.path).toBe('/glm/api/coding/paas/v4/chat/completions');
    const list = await call(own, 'glm', null, { method: 'GET', path: '/models' });
    expect(list.status).toBe(404);
    await own.close();
  });
});
