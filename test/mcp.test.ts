// `exai serve` over stdio, driven by the SDK v2 client against the emulator: tools, streamed
// progress, heartbeats, concurrency, cancellation and errors.
import { spawn } from 'node:child_process';
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, emulatorAnswer, startEmulator } from '../src/emulator/index.js';
import {
  answerFor,
  BIN,
  type Connected,
  CWD,
  connectStdio,
  exaiResult,
  nextClientClose,
  now,
  progressCollector,
  serverEnv,
  textOf,
} from './helpers/mcp.js';
import { TEST_KEY } from './helpers/setup.js';

let emu: Emulator;
let server: Connected<Client> & { errors: Error[] };
let client: Client;

beforeAll(async () => {
  emu = await startEmulator({ paceMs: 5 });
  server = await connectStdio(serverEnv(emu, { EXAI_HEARTBEAT_MS: '500' }));
  client = server.client;
});
afterEach(() => {
  emu.reset();
  emu.setOptions({ paceMs: 5 });
});
afterAll(async () => {
  await server?.close();
  await emu?.close();
});

const structured = exaiResult;

describe('exai serve (stdio, SDK v2 client)', () => {
  it('lists four tools with described inputs; chat and chat_resume declare no output schema', async () => {
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['chat', 'chat_resume', 'listmodels', 'version']);
    for (const t of tools) {
      // Hosts hand a tool's structuredContent to the model instead of its text when it has one.
      if (t.name.startsWith('chat')) expect(t.outputSchema).toBeUndefined();
      else expect(t.outputSchema?.type).toBe('object');
    }
    const chat = tools.find((t) => t.name === 'chat');
    const props = chat?.inputSchema.properties as Record<string, { description?: string }>;
    expect(Object.keys(props).sort()).toEqual(
      [
        'continuation_id',
        'max_tokens',
        'model',
        'prompt',
        'provider',
        'show_reasoning',
        'stream',
        'system_prompt',
        'temperature',
        'wait_ms',
      ].sort(),
    );
    expect(chat?.inputSchema.required).toEqual(['prompt']);
    expect(props.model?.description).toContain('kimi-k2.6');
    expect(props.model?.description).toMatch(/glm-\* → GLM/);
  });

  it('streams a chat answer as many progress notifications whose deltas join to the exact answer', async () => {
    emu.setOptions({ paceMs: 10 });
    const p = progressCollector(server.wire, 'stream me');
    const result = await client.callTool(
      { name: 'chat', arguments: { prompt: 'stream me', model: 'glm-4.5-flash' } },
      { onprogress: p.onprogress },
    );
    const expected = answerFor('glm', 'glm-4.5-flash', 'stream me').content;
    expect(result.isError).toBeFalsy();
    expect(textOf(result)).toBe(expected);
    expect(structured(result).metadata.streamed).toBe(true);
    expect(structured(result).finish_reason).toBe('stop');
    expect(p.content()).toBe(expected);
    expect(p.seen.length).toBeGreaterThan(5);
    expect(p.delivered.length).toBeGreaterThan(5);
    // Coalesced: far fewer notifications than the ~70 chunks the emulator sent.
    expect(p.seen.length).toBeLessThan(Number(structured(result).metadata.chunks) / 2);
    expect(p.seen.map((s) => s.seq)).toEqual(p.seen.map((_, i) => i + 1));
    for (let i = 1; i < p.seen.length; i++) {
      expect(p.seen[i]?.progress).toBeGreaterThan(p.seen[i - 1]?.progress ?? 0);
    }
    // The first notification carries the first token alone: it went out at once.
    expect(expected.startsWith(p.seen[0]?.delta ?? '-')).toBe(true);
    for (const s of p.seen) {
      expect(s.message.length).toBeLessThanOrEqual(200);
      expect(s.message).not.toMatch(/\n/);
    }
    expect(p.seen.at(-1)?.message.endsWith(expected.slice(-50).replace(/\s*\n+\s*/g, ' '))).toBe(true);
  });

  it('returns the same result without a progress token, and sends no notifications', async () => {
    // A connection of its own: a progress handler replaces the SDK's own progress routing.
    const own = await connectStdio(serverEnv(emu));
    try {
      let notified = 0;
      own.client.setNotificationHandler('notifications/progress', () => {
        notified++;
      });
      const result = await own.client.callTool({
        name: 'chat',
        arguments: { prompt: 'no token', provider: 'kimi' },
      });
      const expected = answerFor('kimi', 'kimi-k2-0905-preview', 'no token').content;
      expect(textOf(result)).toBe(expected);
      expect(structured(result).metadata.streamed).toBe(true);
      expect(structured(result).metadata.model).toBe('kimi-k2-0905-preview');
      expect(notified).toBe(0);
    } finally {
      await own.close();
    }
  });

  it('sends heartbeats while the provider is silent, then the rest of the answer', async () => {
    emu.script([{ type: 'stall', afterChunks: 3, ms: 2500 }]);
    const p = progressCollector(server.wire, 'slow one');
    const result = await client.callTool(
      { name: 'chat', arguments: { prompt: 'slow one', model: 'kimi-k2-turbo-preview' } },
      { onprogress: p.onprogress, resetTimeoutOnProgress: true },
    );
    const expected = answerFor('kimi', 'kimi-k2-turbo-preview', 'slow one').content;
    const beats = p.seen.filter((s) => s.heartbeat);
    expect(beats.length).toBeGreaterThanOrEqual(3);
    for (const b of beats) {
      expect(b.delta).toBe('');
      expect(b.message).toMatch(/^waiting for kimi-k2-turbo-preview… \(\d+s\)$/);
    }
    for (let i = 1; i < p.seen.length; i++) {
      expect(p.seen[i]?.progress).toBeGreaterThan(p.seen[i - 1]?.progress ?? 0);
    }
    expect(p.content()).toBe(expected);
    expect(textOf(result)).toBe(expected);
  });

  it('serves 20 concurrent calls independently, each exact', async () => {
    emu.setOptions({ paceMs: 10 });
    const prompts = Array.from({ length: 20 }, (_, i) => `concurrent question ${i}`);
    const runs = await Promise.all(
      prompts.map(async (prompt, i) => {
        const model = i % 2 ? 'kimi-k2-0905-preview' : 'glm-4.5-air';
        const p = progressCollector(server.wire, prompt);
        const result = await client.callTool(
          { name: 'chat', arguments: { prompt, model } },
          { onprogress: p.onprogress },
        );
        return { p, result, expected: answerFor(i % 2 ? 'kimi' : 'glm', model, prompt).content };
      }),
    );
    expect(new Set(runs.map((r) => r.expected)).size).toBe(20);
    for (const { p, result, expected } of runs) {
      expect(textOf(result)).toBe(expected);
      expect(p.content()).toBe(expected);
      expect(p.seen.map((s) => s.seq)).toEqual(p.seen.map((_, i) => i + 1));
      // The server pings the client before the result, so none is lost in the same read.
      expect(p.delivered.length).toBe(p.seen.length);
    }
  });

  it('cancelling the call closes the upstream connection within 100 ms', async () => {
    emu.setOptions({ paceMs: 20 });
    const controller = new AbortController();
    const closed = nextClientClose(emu);
    let abortedAt = 0;
    const p = progressCollector(server.wire, 'cancel me');
    const call = client.callTool(
      { name: 'chat', arguments: { prompt: 'cancel me', model: 'glm-4.5-flash' } },
      {
        signal: controller.signal,
        onprogress: (n) => {
          p.onprogress(n);
          if (p.delivered.length === 3) {
            abortedAt = now();
            controller.abort();
          }
        },
      },
    );
    await expect(call).rejects.toThrow();
    const closedAt = await closed;
    const ms = closedAt - abortedAt;
    console.log(`[mcp stdio] cancel → upstream closed in ${ms.toFixed(1)} ms`);
    expect(ms).toBeLessThan(100);
    const expected = answerFor('glm', 'glm-4.5-flash', 'cancel me').content;
    expect(expected.startsWith(p.content())).toBe(true);
    expect(emu.requests.at(-1)?.outcome).toBe('client-closed');
    // The server keeps serving.
    const again = await client.callTool({
      name: 'chat',
      arguments: { prompt: 'after cancel', model: 'glm-4.5' },
    });
    expect(textOf(again)).toBe(answerFor('glm', 'glm-4.5', 'after cancel').content);
  });

  it('the host closing stdin aborts the in-flight upstream request within 100 ms', async () => {
    emu.setOptions({ paceMs: 20 });
    const own = await connectStdio(serverEnv(emu));
    const closed = nextClientClose(emu);
    let closedStdinAt = 0;
    const p = progressCollector(own.wire, 'until stdin ends');
    const call = own.client
      .callTool(
        { name: 'chat', arguments: { prompt: 'until stdin ends', model: 'glm-4.5-flash' } },
        {
          onprogress: (n) => {
            p.onprogress(n);
            if (p.delivered.length === 2) {
              closedStdinAt = now();
              void own.close();
            }
          },
        },
      )
      .then(
        () => 'answered',
        () => 'failed',
      );
    const ms = (await closed) - closedStdinAt;
    console.log(`[mcp stdio] stdin closed → upstream closed in ${ms.toFixed(1)} ms`);
    expect(ms).toBeLessThan(100);
    expect(await call).toBe('failed');
  });

  it('honours stream: false with one non-streaming request, still relaying the answer', async () => {
    const p = progressCollector(server.wire, 'whole');
    const result = await client.callTool(
      { name: 'chat', arguments: { prompt: 'whole', model: 'glm-4.5-flash', stream: false } },
      { onprogress: p.onprogress },
    );
    const expected = answerFor('glm', 'glm-4.5-flash', 'whole').content;
    expect(emu.requests.at(-1)?.stream).toBe(false);
    expect(structured(result).metadata.streamed).toBe(false);
    expect(textOf(result)).toBe(expected);
    expect(p.content()).toBe(expected);
  });

  it('passes system_prompt, temperature and max_tokens to the provider', async () => {
    const args = {
      prompt: 'short',
      model: 'kimi-k2-turbo-preview',
      system_prompt: 'Be brief.',
      temperature: 0.3,
    };
    const result = await client.callTool({ name: 'chat', arguments: { ...args, max_tokens: 5 } });
    const body = emu.requests.at(-1)?.body;
    expect(body).toMatchObject({
      model: 'kimi-k2-turbo-preview',
      temperature: 0.3,
      max_completion_tokens: 5,
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'short' },
      ],
    });
    const expected = emulatorAnswer('kimi', body as never);
    expect(textOf(result)).toBe(expected.content);
    expect(structured(result)).toMatchObject({ finish_reason: 'length' });
  });

  it('streams reasoning on its own channel only with show_reasoning', async () => {
    const shown = progressCollector(server.wire, 'think');
    const withReasoning = await client.callTool(
      { name: 'chat', arguments: { prompt: 'think', model: 'glm-4.6', show_reasoning: true } },
      { onprogress: shown.onprogress },
    );
    const expected = answerFor('glm', 'glm-4.6', 'think');
    expect(expected.reasoning.length).toBeGreaterThan(0);
    expect(shown.reasoning()).toBe(expected.reasoning);
    expect(shown.content()).toBe(expected.content);
    expect(structured(withReasoning).reasoning).toBe(expected.reasoning);
    const firstContent = shown.seen.findIndex((s) => s.channel === 'content');
    expect(shown.seen.slice(0, firstContent).every((s) => s.channel === 'reasoning')).toBe(true);
    expect(shown.seen.find((s) => s.channel === 'reasoning')?.message).toMatch(/^thinking: /);

    const hidden = progressCollector(server.wire, 'think');
    const without = await client.callTool(
      { name: 'chat', arguments: { prompt: 'think', model: 'glm-4.6' } },
      { onprogress: hidden.onprogress },
    );
    expect(hidden.seen.some((s) => s.channel === 'reasoning')).toBe(false);
    expect(hidden.content()).toBe(expected.content);
    expect(structured(without).reasoning).toBeUndefined();
  });

  it('relays only the new text when a broken stream is recovered', async () => {
    emu.script([{ type: 'drop', afterChunks: 12 }]);
    const p = progressCollector(server.wire, 'recover me');
    const result = await client.callTool(
      { name: 'chat', arguments: { prompt: 'recover me', model: 'kimi-k2-0905-preview' } },
      { onprogress: p.onprogress },
    );
    const expected = answerFor('kimi', 'kimi-k2-0905-preview', 'recover me').content;
    expect(structured(result).metadata.recovered).toBe(true);
    expect(textOf(result)).toBe(expected);
    expect(p.content()).toBe(expected);
  });

  it('relays a fallback answer as one delta', async () => {
    emu.script([{ type: 'refuse-stream', mode: 'json' }]);
    const p = progressCollector(server.wire, 'fallback');
    const result = await client.callTool(
      { name: 'chat', arguments: { prompt: 'fallback', model: 'glm-4.5-flash' } },
      { onprogress: p.onprogress },
    );
    const expected = answerFor('glm', 'glm-4.5-flash', 'fallback').content;
    expect(structured(result).metadata.fallback).not.toBeNull();
    expect(structured(result).metadata.streamed).toBe(false);
    expect(textOf(result)).toBe(expected);
    expect(p.content()).toBe(expected);
  });

  it('returns a partial answer with interrupted metadata and the reason in a second text item', async () => {
    emu.script([
      { type: 'drop', afterChunks: 10 },
      { type: 'status', status: 400 },
    ]);
    const p = progressCollector(server.wire, 'partial');
    const result = await client.callTool(
      { name: 'chat', arguments: { prompt: 'partial', model: 'glm-4.5-flash' } },
      { onprogress: p.onprogress },
    );
    const expected = answerFor('glm', 'glm-4.5-flash', 'partial').content;
    const s = structured(result);
    expect(result.isError).toBeFalsy();
    expect(s.metadata.interrupted).toBe(true);
    const shown = textOf(result);
    expect(shown.length).toBeGreaterThan(0);
    expect(expected.startsWith(shown)).toBe(true);
    expect(shown.length).toBeLessThan(expected.length);
    expect(textOf(result, 1)).toMatch(
      /^\[exai\] The answer above is incomplete \(400\): answer is partial: glm API error 400/,
    );
    // The provider's own code (GLM sends "400" for a plain bad request).
    expect(s.error?.code).toBe('400');
    expect(p.content()).toBe(shown);
  });
});

describe('exai serve (stdio) errors', () => {
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['an empty prompt', { prompt: '' }, /prompt must not be empty/],
    ['a missing prompt', { model: 'glm-4.6' }, /prompt is required/],
    ['a temperature out of range', { prompt: 'x', temperature: 5 }, /temperature must be between 0 and 1/],
    ['an unknown argument', { prompt: 'x', modle: 'glm-4.6' }, /Unrecognized key: "modle"/],
    ['an unknown provider', { prompt: 'x', provider: 'openai' }, /provider must be "glm" or "kimi"/],
    [
      'a model of no known provider',
      { prompt: 'x', model: 'gpt-4o' },
      /cannot tell the provider of model "gpt-4o"/,
    ],
    [
      'a model of the other provider',
      { prompt: 'x', model: 'glm-4.6', provider: 'kimi' },
      /belongs to glm, not kimi/,
    ],
  ];
  it.each(cases)('rejects %s with one clear message and keeps serving', async (_, args, message) => {
    const result = await client.callTool({ name: 'chat', arguments: args });
    expect(result.isError).toBe(true);
    expect(result.content).toHaveLength(1);
    expect(textOf(result)).toMatch(message);
    const ok = await client.callTool({ name: 'version', arguments: {} });
    expect(ok.isError).toBeFalsy();
  });

  it.each([
    [
      'glm',
      'glm-4.5-flash',
      401,
      /^glm API error 401 \(code 1002: Invalid Authentication Token.*check GLM_API_KEY/,
    ],
    [
      'kimi',
      'kimi-k2-0905-preview',
      400,
      /^kimi API error 400 \(.*Invalid request: rejected by the emulator\)/,
    ],
    [
      'glm',
      'glm-9',
      400,
      /^glm API error 400 .* — "glm-9" is not a model exai knows; glm models: glm-5\.3, glm-5\.3-flash, /,
    ],
  ] as const)(
    'turns a %s %s HTTP %d into an error result without the key',
    async (_, model, status, message) => {
      emu.script([{ type: 'status', status }]);
      const result = await client.callTool({ name: 'chat', arguments: { prompt: 'refused', model } });
      expect(result.isError).toBe(true);
      expect(textOf(result)).toMatch(message);
      expect(JSON.stringify(result)).not.toContain(TEST_KEY);
      expect(server.stderr()).not.toContain(TEST_KEY);
    },
  );

  it('refuses to start with a malformed EXAI_HEARTBEAT_MS', async () => {
    const child = spawn(process.execPath, [BIN, 'serve'], {
      cwd: CWD,
      env: serverEnv(emu, { EXAI_HEARTBEAT_MS: 'soon' }),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
    });
    const code = await new Promise((r) => child.once('exit', r));
    expect(code).toBe(2);
    expect(stderr).toMatch(/EXAI_HEARTBEAT_MS.*integer >= 1.*"soon"/);
  });

  it('says which variable to set when the key is missing', async () => {
    const bare = await connectStdio({ PATH: process.env.PATH ?? '', EXAI_LOG_LEVEL: 'warn' });
    try {
      const result = await bare.client.callTool({ name: 'chat', arguments: { prompt: 'no key' } });
      expect(result.isError).toBe(true);
      expect(textOf(result)).toMatch(/^GLM_API_KEY is not set, so glm cannot be used: add it to the "env"/);
      const models = await bare.client.callTool({ name: 'listmodels', arguments: {} });
      expect(textOf(models)).toMatch(/glm \(API key missing/);
    } finally {
      await bare.close();
    }
  });
});

describe('exai serve (stdio) info tools', () => {
  it('listmodels returns every catalog model as text and structuredContent', async () => {
    const result = await client.callTool({ name: 'listmodels', arguments: {} });
    const data = result.structuredContent as {
      defaultProvider: string;
      models: Array<Record<string, unknown>>;
    };
    expect(data.defaultProvider).toBe('glm');
    expect(data.models.find((m) => m.model === 'glm-4.6')).toMatchObject({
      provider: 'glm',
      default: true,
      keySet: true,
      streaming: true,
    });
    expect(textOf(result)).toContain('glm-4.6 — 200K context, 128K output, reasoning, legacy, default');
    expect(textOf(result)).toContain('kimi-k3 — 1M context, 1M output, always reasons, vision (video)');
  });

  it('version names the package, protocol, Node and configured providers', async () => {
    const result = await client.callTool({ name: 'version', arguments: {} });
    expect(result.structuredContent).toMatchObject({
      name: 'exai',
      node: process.versions.node,
      protocolVersion: expect.stringMatching(/^\d{4}-\d{2}-\d{2}$/),
      providers: [
        { provider: 'glm', configured: true },
        { provider: 'kimi', configured: true },
      ],
    });
  });
});

describe('exai serve (stdio) output', () => {
  it('writes only JSON-RPC messages to stdout', async () => {
    const child = spawn(process.execPath, [BIN, 'serve'], {
      cwd: CWD,
      env: serverEnv(emu, { EXAI_LOG_LEVEL: 'debug' }),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
    });
    const send = (m: object) => child.stdin.write(`${JSON.stringify(m)}\n`);
    send({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '0' } },
    });
    send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    send({
      jsonrpc: '2.0',
      id: 2,
      method: 'tools/call',
      params: { name: 'chat', arguments: { prompt: 'raw', model: 'glm-4.5' }, _meta: { progressToken: 'p' } },
    });
    const deadline = Date.now() + 10_000;
    while (!/"id":2/.test(stdout) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    child.stdin.end();
    await new Promise((r) => child.once('exit', r));
    const lines = stdout.trim().split('\n');
    expect(lines.length).toBeGreaterThan(3);
    for (const line of lines) expect(JSON.parse(line)).toMatchObject({ jsonrpc: '2.0' });
    expect(stderr).toMatch(/"msg":"chat done"/);
  });
});

describe('createExaiMcpServer', () => {
  it('serves the tools in-process over any SDK transport', async () => {
    const { InMemoryTransport } = await import('@modelcontextprotocol/server');
    const { Client: V2Client } = await import('@modelcontextprotocol/client');
    const { createExaiMcpServer } = await import('../src/mcp/index.js');
    const { createLogger, createTransport, loadConfig } = await import('../src/index.js');
    const config = loadConfig({ env: serverEnv(emu), dotenvDir: false });
    const transport = createTransport();
    const mcp = createExaiMcpServer({ config, logger: createLogger('silent'), transport });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await mcp.connect(serverSide);
    const local = new V2Client({ name: 'in-memory', version: '0' });
    await local.connect(clientSide);
    try {
      const result = await local.callTool({
        name: 'chat',
        arguments: { prompt: 'in memory', model: 'glm-4.5' },
      });
      expect(textOf(result)).toBe(answerFor('glm', 'glm-4.5', 'in memory').content);
    } finally {
      await local.close();
      await mcp.close();
      transport.close();
    }
  });
});
