// The library against the emulator: streaming, aggregation, flags, fallback, recovery, abort, keep-alive.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, emulatorAnswer, startEmulator } from '../src/emulator/index.js';
import {
  APIError,
  type ChatCompletionChunk,
  type ClientOptions,
  ConfigError,
  createClient,
  createTransport,
  loadConfig,
  type ProviderName,
  type Transport,
} from '../src/index.js';
import { testClient, testEnv, user } from './helpers/setup.js';

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator();
});
afterEach(() => {
  emu.reset();
  emu.setOptions({ paceMs: 0, crlf: false, keepAliveComments: false });
});
afterAll(async () => {
  await emu.close();
});

const MODELS: Record<ProviderName, { plain: string; thinking: string }> = {
  glm: { plain: 'glm-4.5-flash', thinking: 'glm-4.6' },
  kimi: { plain: 'kimi-k2-0905-preview', thinking: 'kimi-k2-thinking' },
};

async function collect(stream: AsyncIterable<ChatCompletionChunk>) {
  const chunks: ChatCompletionChunk[] = [];
  for await (const c of stream) chunks.push(c);
  return chunks;
}

describe.each(['glm', 'kimi'] as const)('%s streaming', (provider) => {
  const model = MODELS[provider].plain;

  it('aggregates content exactly equal to the emulator text, with usage and finish reason', async () => {
    const { client, transport } = testClient(emu, provider);
    const messages = user(`hello from ${provider}`);
    const stream = await client.chat.completions.create({ model, messages, stream: true });
    const chunks = await collect(stream);
    const result = await stream.finalResult();
    const expected = emulatorAnswer(provider, { model, messages });
    const joined = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
    expect(joined).toBe(expected.content);
    expect(result.content).toBe(expected.content);
    expect(result.finishReason).toBe('stop');
    expect(result.usage?.completion_tokens).toBeGreaterThan(0);
    expect(result.usage?.total_tokens).toBe(
      (result.usage?.prompt_tokens ?? 0) + (result.usage?.completion_tokens ?? 0),
    );
    // Usage is normalised to the top level whichever placement the provider used.
    expect(chunks.at(-1)?.usage).toEqual(result.usage);
    expect(result.metadata).toMatchObject({
      provider,
      model,
      streamed: true,
      retries: 0,
      fallback: null,
      recovered: false,
      interrupted: false,
    });
    expect(result.metadata.chunks).toBe(chunks.length);
    expect(result.metadata.ttftMs).toBeGreaterThan(0);
    transport.close();
  });

  it('delivers the first chunk before the emulator has sent the last one', async () => {
    emu.setOptions({ paceMs: 20 });
    const { client, transport } = testClient(emu, provider);
    const stream = await client.chat.completions.create({ model, messages: user('pace me'), stream: true });
    let firstSeenWhileSending: boolean | undefined;
    for await (const chunk of stream) {
      if (firstSeenWhileSending === undefined && chunk.choices[0]?.delta?.content) {
        const record = emu.requests.at(-1);
        firstSeenWhileSending = record?.endedAt === undefined;
      }
    }
    expect(firstSeenWhileSending).toBe(true);
    expect(emu.requests.at(-1)?.endedAt).toBeDefined();
    transport.close();
  });

  it('aggregates reasoning before content for a thinking model', async () => {
    const { client, transport } = testClient(emu, provider);
    const thinking = MODELS[provider].thinking;
    const messages = user('think first');
    const stream = await client.chat.completions.create({ model: thinking, messages, stream: true });
    const order: string[] = [];
    for await (const c of stream) {
      const d = c.choices[0]?.delta;
      if (d?.reasoning_content && order.at(-1) !== 'r') order.push('r');
      if (d?.content && order.at(-1) !== 'c') order.push('c');
    }
    const result = await stream.finalResult();
    const expected = emulatorAnswer(provider, { model: thinking, messages });
    expect(order).toEqual(['r', 'c']);
    expect(result.reasoning).toBe(expected.reasoning);
    expect(result.reasoning.length).toBeGreaterThan(0);
    expect(result.content).toBe(expected.content);
    transport.close();
  });

  it('aggregates tool-call deltas by index into complete calls', async () => {
    const { client, transport } = testClient(emu, provider);
    const messages = user('what is the weather in Florence?');
    const tools = [
      {
        type: 'function' as const,
        function: {
          name: 'get_weather',
          parameters: {
            type: 'object',
            properties: { location: { type: 'string' }, unit: { type: 'string' } },
          },
        },
      },
    ];
    const stream = await client.chat.completions.create({ model, messages, tools, stream: true });
    const result = await stream.finalResult();
    const expected = emulatorAnswer(provider, { model, messages, tools });
    expect(result.finishReason).toBe('tool_calls');
    expect(result.toolCalls).toEqual(expected.toolCalls);
    expect(result.toolCalls[0]?.function.name).toBe('get_weather');
    expect(() => JSON.parse(result.toolCalls[0]?.function.arguments ?? '')).not.toThrow();
    transport.close();
  });

  it('makes a non-streaming request when streaming is disabled by the env flag, same result shape', async () => {
    const flag = provider === 'glm' ? 'GLM_STREAM_ENABLED' : 'KIMI_STREAM_ENABLED';
    const { client, transport } = testClient(emu, provider, { env: { [flag]: 'false' } });
    const messages = user('no streaming please');
    const stream = await client.chat.completions.create({ model, messages, stream: true });
    const chunks = await collect(stream);
    const result = await stream.finalResult();
    expect(emu.requests.at(-1)?.stream).toBe(false);
    expect(result.content).toBe(emulatorAnswer(provider, { model, messages }).content);
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe(result.content);
    expect(result.metadata.streamed).toBe(false);
    expect(result.metadata.chunks).toBe(0);
    expect(result.metadata.fallback).toBeNull();
    expect(result.usage?.completion_tokens).toBeGreaterThan(0);
    transport.close();
  });

  it('returns a chat.completion that is also a ChatResult for stream: false', async () => {
    const { client, transport } = testClient(emu, provider);
    const messages = user('plain request');
    const completion = await client.chat.completions.create({ model, messages });
    const expected = emulatorAnswer(provider, { model, messages }).content;
    expect(completion.object).toBe('chat.completion');
    expect(completion.choices[0]?.message.content).toBe(expected);
    expect(completion.content).toBe(expected);
    expect(completion.metadata.streamed).toBe(false);
    transport.close();
  });

  it('falls back to a non-streaming request when streaming is refused, recording why', async () => {
    const { client, transport } = testClient(emu, provider, { maxRetries: 1 });
    emu.setDefaultFault({ type: 'refuse-stream', mode: 'status', onlyStream: true });
    const messages = user('streaming refused');
    const stream = await client.chat.completions.create({ model, messages, stream: true });
    const chunks = await collect(stream);
    const result = await stream.finalResult();
    expect(result.content).toBe(emulatorAnswer(provider, { model, messages }).content);
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe(result.content);
    expect(result.metadata.streamed).toBe(false);
    // One retry, then the fallback: three requests, two beyond the first.
    expect(result.metadata.requests).toBe(3);
    expect(result.metadata.retries).toBe(2);
    expect(result.metadata.fallback?.reason).toMatch(/503/);
    expect(result.metadata.fallback?.afterChunks).toBe(0);
    transport.close();
  });

  it('takes a gateway answer that ignored stream: true as a fallback without a second request', async () => {
    const { client, transport } = testClient(emu, provider);
    emu.script([{ type: 'refuse-stream', mode: 'json', onlyStream: true }]);
    const messages = user('json instead of sse');
    const stream = await client.chat.completions.create({ model, messages, stream: true });
    const result = await stream.finalResult();
    expect(result.content).toBe(emulatorAnswer(provider, { model, messages }).content);
    expect(result.metadata.fallback?.reason).toMatch(/without streaming/);
    expect(emu.requests).toHaveLength(1);
    transport.close();
  });

  it('recovers a dropped stream by continuation: exact text, nothing delivered twice', async () => {
    const { client, transport } = testClient(emu, provider);
    emu.script([{ type: 'drop', afterChunks: 6 }]);
    const messages = user('drop me halfway');
    const stream = await client.chat.completions.create({ model, messages, stream: true });
    const chunks = await collect(stream);
    const result = await stream.finalResult();
    const expected = emulatorAnswer(provider, { model, messages }).content;
    expect(chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('')).toBe(expected);
    expect(result.content).toBe(expected);
    expect(result.metadata.recovered).toBe(true);
    expect(result.metadata.interrupted).toBe(false);
    expect(emu.requests.at(-1)?.continuation).toBe(true);
    transport.close();
  });

  it('keeps every token of a dropped stream when it cannot be continued', async () => {
    const { client, transport } = testClient(emu, provider, { maxRecoveries: 0 });
    emu.script([{ type: 'drop', afterChunks: 6 }]);
    const messages = user('drop me and give up');
    const stream = await client.chat.completions.create({ model, messages, stream: true });
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const c of stream) seen.push(c.choices[0]?.delta?.content ?? '');
      })(),
    ).rejects.toThrow(/connection/);
    const result = await stream.finalResult();
    const expected = emulatorAnswer(provider, { model, messages }).content;
    expect(result.content.length).toBeGreaterThan(0);
    expect(result.content).toBe(seen.join(''));
    expect(expected.startsWith(result.content)).toBe(true);
    expect(result.content.length).toBeLessThan(expected.length);
    expect(result.metadata.interrupted).toBe(true);
    expect(result.error?.message).toMatch(/partial.*connection/);
    transport.close();
  });

  it('aborting closes the upstream connection and keeps the partial answer', async () => {
    emu.setOptions({ paceMs: 15 });
    const { client, transport } = testClient(emu, provider);
    const controller = new AbortController();
    const streaming = await client.chat.completions.create(
      { model, messages: user('abort me'), stream: true },
      { signal: controller.signal },
    );
    const closed = new Promise<number>((resolve) =>
      emu.on('client-closed', () => resolve(performance.now())),
    );
    let abortedAt = 0;
    let n = 0;
    await expect(
      (async () => {
        for await (const c of streaming) {
          if (c.choices[0]?.delta?.content && ++n === 3) {
            abortedAt = performance.now();
            controller.abort();
          }
        }
      })(),
    ).rejects.toThrow(/abort/);
    const closedAt = await closed;
    expect(closedAt - abortedAt).toBeLessThan(100);
    const result = await streaming.finalResult();
    expect(result.metadata.interrupted).toBe(true);
    expect(result.error?.code).toBe('aborted');
    await emu.waitForIdle(1000);
    expect(emu.requests.at(-1)?.outcome).toBe('client-closed');
    transport.close();
  });

  it('rejects with the provider error for a non-retryable 4xx, without retrying', async () => {
    const { client, transport } = testClient(emu, provider);
    emu.script([{ type: 'status', status: 400 }]);
    const error = await client.chat.completions
      .create({ model, messages: user('bad request'), stream: true })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIError);
    expect((error as APIError).status).toBe(400);
    expect((error as APIError).provider).toBe(provider);
    expect(String((error as Error).message)).not.toContain('SECRET');
    expect(emu.requests).toHaveLength(1);
    transport.close();
  });
});

describe('wire-level decoding through the client', () => {
  it('decodes CRLF line endings and keep-alive comments to the exact text', async () => {
    emu.setOptions({ crlf: true, keepAliveComments: true });
    const { client, transport } = testClient(emu, 'kimi');
    const messages = user('crlf please');
    const stream = await client.chat.completions.create({
      model: 'kimi-k2-0905-preview',
      messages,
      stream: true,
    });
    const result = await stream.finalResult();
    expect(result.content).toBe(emulatorAnswer('kimi', { model: 'kimi-k2-0905-preview', messages }).content);
    transport.close();
  });
});

describe('client options', () => {
  it('are read once, when the client is made: a later change to the object does not reach its calls', async () => {
    const first = createTransport();
    // A transport that fails every request: the client must not pick it up.
    const other: Transport = {
      request: () => Promise.reject(new Error('not this transport')),
      close() {},
    };
    const options: ClientOptions = {
      config: loadConfig({ env: testEnv(emu), dotenvDir: false }),
      transport: first,
      maxOutputBytes: 1_000_000,
    };
    const client = createClient('glm', options);
    const before = emu.requests.length;
    options.transport = other;
    options.maxOutputBytes = 10;
    const stream = await client.chat.completions.create({
      model: 'glm-4.5-flash',
      messages: user('once'),
      stream: true,
    });
    const result = await stream.finalResult();
    // The whole answer (no cut at 10 bytes), over the first transport.
    expect(result.content).toBe(
      emulatorAnswer('glm', { model: 'glm-4.5-flash', messages: user('once') }).content,
    );
    expect(result.error).toBeUndefined();
    expect(emu.requests.length - before).toBe(1);
    first.close();
  });
});

describe('configuration errors', () => {
  it('a missing key is a ConfigError naming the variable, before any request', async () => {
    const noKey = testClient(emu, 'glm', { env: { GLM_API_KEY: '' } });
    await expect(noKey.client.chat.completions.create({ messages: user('x'), stream: true })).rejects.toThrow(
      ConfigError,
    );
    await expect(noKey.client.chat.completions.create({ messages: user('x'), stream: true })).rejects.toThrow(
      /GLM_API_KEY/,
    );
    expect(emu.requests).toHaveLength(0);
    noKey.transport.close();
  });

  it('a model of the other provider is a usage error', async () => {
    const { client, transport } = testClient(emu, 'glm');
    await expect(
      client.chat.completions.create({ model: 'kimi-k2-0905-preview', messages: user('x'), stream: true }),
    ).rejects.toThrow(/belongs to kimi/);
    transport.close();
  });
});
