// The 2026 APIs through the whole library, on the emulator: what reaches the provider, GLM tool
// streaming, index -1 tool calls read by openai-node, network_error / sensitive finishes, endpoints.
import { ChatCompletionStream } from 'openai/lib/ChatCompletionStream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, emulatorAnswer, startEmulator } from '../src/emulator/index.js';
import {
  type ChatCompletionChunk,
  createClient,
  createTransport,
  loadConfig,
  type Transport,
  UsageError,
} from '../src/index.js';
import { runExai } from './helpers/cli.js';
import { connectStdio, serverEnv, textOf } from './helpers/mcp.js';
import { TEST_KEY, testClient, testEnv, user } from './helpers/setup.js';

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator();
});
afterEach(() => {
  emu.reset();
  emu.setOptions({ separateUsage: false, modelListing: {} });
});
afterAll(async () => {
  await emu.close();
});

const tools = [
  {
    type: 'function' as const,
    function: {
      name: 'get_weather',
      parameters: { type: 'object', properties: { location: { type: 'string' }, unit: { type: 'string' } } },
    },
  },
];

async function collect(stream: AsyncIterable<ChatCompletionChunk>) {
  const chunks: ChatCompletionChunk[] = [];
  for await (const c of stream) chunks.push(c);
  return chunks;
}

/** openai-node's own stream helper over exai's chunks, as openai-shaped code would consume them. */
function openaiFinal(chunks: ChatCompletionChunk[]) {
  const bytes = new TextEncoder();
  const readable = new ReadableStream({
    start(controller) {
      for (const c of chunks) controller.enqueue(bytes.encode(`${JSON.stringify(c)}\n`));
      controller.close();
    },
  });
  return ChatCompletionStream.fromReadableStream(readable).finalChatCompletion();
}

describe('request fields reach the provider', () => {
  it('sends tool_stream, reasoning_effort, seed, user and an unknown field unchanged', async () => {
    const { client, transport } = testClient(emu, 'glm');
    const params = {
      model: 'glm-5.3',
      messages: user('fields'),
      stream: true as const,
      tool_stream: false,
      reasoning_effort: 'high',
      seed: 42,
      user: 'user-7',
      parallel_tool_calls: true,
      do_sample: false,
      request_id: 'mine-1',
      x_vendor_flag: { on: true },
    };
    await (await client.chat.completions.create(params)).finalResult();
    const body = emu.requests.at(-1)?.body;
    expect(body).toMatchObject({
      tool_stream: false,
      reasoning_effort: 'high',
      seed: 42,
      user: 'user-7',
      parallel_tool_calls: true,
      do_sample: false,
      request_id: 'mine-1',
      x_vendor_flag: { on: true },
      stream_options: { include_usage: true },
    });
    transport.close();
  });

  it("sends max_completion_tokens as GLM's max_tokens, and the emulator cuts there", async () => {
    const { client, transport } = testClient(emu, 'glm');
    const messages = user('limit me');
    const stream = await client.chat.completions.create({
      model: 'glm-4.5-flash',
      messages,
      stream: true,
      max_completion_tokens: 4,
    });
    const result = await stream.finalResult();
    const body = emu.requests.at(-1)?.body;
    expect(body?.max_tokens).toBe(4);
    expect(body).not.toHaveProperty('max_completion_tokens');
    expect(result.finishReason).toBe('length');
    transport.close();
  });

  it('sends an image_url content part to a vision model as given', async () => {
    const { client, transport } = testClient(emu, 'glm');
    const content = [
      { type: 'text' as const, text: 'What is in this picture?' },
      { type: 'image_url' as const, image_url: { url: 'data:image/png;base64,iVBORw0KGgo=' } },
    ];
    const messages = [{ role: 'user' as const, content }];
    const stream = await client.chat.completions.create({ model: 'glm-5.3-flash', messages, stream: true });
    const result = await stream.finalResult();
    expect(emu.requests.at(-1)?.body?.messages).toEqual([{ role: 'user', content }]);
    expect(result.content).toBe(emulatorAnswer('glm', { model: 'glm-5.3-flash', messages }).content);
    transport.close();
  });

  it('refuses n: 2 and an image for a text-only model before any request', async () => {
    const { client, transport } = testClient(emu, 'glm');
    await expect(
      client.chat.completions.create({ model: 'glm-5.3', messages: user('two'), stream: true, n: 2 }),
    ).rejects.toThrow(/n must be 1/);
    const image = { type: 'image_url' as const, image_url: { url: 'https://example.test/a.png' } };
    await expect(
      client.chat.completions.create({
        model: 'glm-5.3',
        messages: [{ role: 'user', content: [image] }],
        stream: true,
      }),
    ).rejects.toBeInstanceOf(UsageError);
    await expect(
      client.chat.completions.create({
        model: 'kimi-k3',
        messages: user('off'),
        stream: true,
        thinking: { type: 'disabled' },
      }),
    ).rejects.toThrow(/belongs to kimi/);
    expect(emu.requests).toHaveLength(0);
    transport.close();
  });
});

describe('GLM tool calls', () => {
  it('without tool_stream from the caller, exai asks for it and the arguments stream in pieces', async () => {
    const { client, transport } = testClient(emu, 'glm');
    const messages = user('weather please');
    const stream = await client.chat.completions.create({ model: 'glm-5.3', messages, tools, stream: true });
    const chunks = await collect(stream);
    const result = await stream.finalResult();
    expect(emu.requests.at(-1)?.body?.tool_stream).toBe(true);
    const pieces = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(pieces.length).toBeGreaterThan(3);
    expect(pieces.every((p) => p.index === 0)).toBe(true);
    const expected = emulatorAnswer('glm', { model: 'glm-5.3', messages, tools, tool_stream: true });
    expect(result.toolCalls).toEqual(expected.toolCalls);
    expect(result.finishReason).toBe('tool_calls');
    expect(emu.requests).toHaveLength(1);
    transport.close();
  });

  it("the one-frame index -1 call comes out with index 0, and openai-node's helper reads it", async () => {
    const { client, transport } = testClient(emu, 'glm');
    const messages = user('one frame');
    const stream = await client.chat.completions.create({
      model: 'glm-4.6',
      messages,
      tools,
      tool_stream: false,
      stream: true,
    });
    const chunks = await collect(stream);
    const result = await stream.finalResult();
    const calls = chunks.flatMap((c) => c.choices[0]?.delta.tool_calls ?? []);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.index).toBe(0);
    // The usage arrives apart, in a `choices: []` chunk after the finish.
    expect(chunks.at(-1)?.choices).toEqual([]);
    expect(result.usage?.total_tokens).toBeGreaterThan(0);

    const viaOpenai = await openaiFinal(chunks);
    const message = viaOpenai.choices[0]?.message;
    expect(message?.tool_calls).toEqual(result.toolCalls);
    expect(message?.content ?? '').toBe(result.content);
    expect(viaOpenai.choices[0]?.finish_reason).toBe('tool_calls');
    expect(viaOpenai.usage).toEqual(result.usage);
    transport.close();
  });

  it('openai-node reads the same message and usage as finalResult() for a streamed Kimi answer', async () => {
    const { client, transport } = testClient(emu, 'kimi');
    emu.setOptions({ separateUsage: true });
    const messages = user('kimi via openai');
    const stream = await client.chat.completions.create({ model: 'kimi-k2.6', messages, stream: true });
    const chunks = await collect(stream);
    const result = await stream.finalResult();
    const viaOpenai = await openaiFinal(chunks);
    expect(viaOpenai.choices[0]?.message.content).toBe(result.content);
    expect(viaOpenai.usage).toEqual(result.usage);
    expect(result.reasoning.length).toBeGreaterThan(0);
    transport.close();
  });
});

describe('finish reasons', () => {
  it('GLM network_error mid-answer is recovered by a continuation', async () => {
    const { client, transport } = testClient(emu, 'glm');
    emu.script([{ type: 'finish', reason: 'network_error', afterChunks: 8 }]);
    const messages = user('inference fails once');
    const stream = await client.chat.completions.create({ model: 'glm-4.5-flash', messages, stream: true });
    const result = await stream.finalResult();
    expect(result.content).toBe(emulatorAnswer('glm', { model: 'glm-4.5-flash', messages }).content);
    expect(result.finishReason).toBe('stop');
    expect(result.metadata.recovered).toBe(true);
    expect(emu.requests).toHaveLength(2);
    expect(emu.requests[1]?.continuation).toBe(true);
    transport.close();
  });

  it('GLM sensitive ends the answer as content_filter, keeping the provider value', async () => {
    const { client, transport } = testClient(emu, 'glm');
    emu.script([{ type: 'finish', reason: 'sensitive', afterChunks: 5 }]);
    const messages = user('filtered');
    const stream = await client.chat.completions.create({ model: 'glm-4.5-flash', messages, stream: true });
    const chunks = await collect(stream);
    const result = await stream.finalResult();
    expect(result.finishReason).toBe('content_filter');
    expect(result.metadata.providerFinishReason).toBe('sensitive');
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('content_filter');
    const full = emulatorAnswer('glm', { model: 'glm-4.5-flash', messages }).content;
    expect(full.startsWith(result.content)).toBe(true);
    expect(result.content.length).toBeLessThan(full.length);
    expect(emu.requests).toHaveLength(1);
    transport.close();
  });

  it('a non-streamed sensitive answer says content_filter too; a streamed Kimi content_filter stays', async () => {
    const glm = testClient(emu, 'glm');
    emu.script([{ type: 'finish', reason: 'sensitive', afterChunks: 3 }]);
    const done = await glm.client.chat.completions.create({ model: 'glm-4.5-flash', messages: user('x') });
    expect(done.finishReason).toBe('content_filter');
    expect(done.choices[0]?.finish_reason).toBe('content_filter');
    expect(done.metadata.providerFinishReason).toBe('sensitive');
    glm.transport.close();
    const kimi = testClient(emu, 'kimi');
    emu.script([{ type: 'finish', reason: 'content_filter', afterChunks: 3 }]);
    const stream = await kimi.client.chat.completions.create({
      model: 'kimi-k2.6',
      messages: user('y'),
      stream: true,
    });
    const result = await stream.finalResult();
    expect(result.finishReason).toBe('content_filter');
    expect(result.metadata).not.toHaveProperty('providerFinishReason');
    kimi.transport.close();
  });
});

/** The real transport, with the provider's public origin swapped for the emulator's (paths untouched). */
function toEmulator(real: Transport): Transport & { urls: string[] } {
  const urls: string[] = [];
  return {
    urls,
    request(req) {
      const url = req.url.replace(/^https:\/\/api\.z\.ai\/api\//, `${emu.url}/glm/api/`);
      urls.push(req.url);
      return real.request({ ...req, url });
    },
    close: () => real.close(),
  };
}

describe('endpoints', () => {
  it('GLM_ENDPOINT=coding sends to /api/coding/paas/v4', async () => {
    const config = loadConfig({
      env: { GLM_API_KEY: TEST_KEY, GLM_ENDPOINT: 'coding', EXAI_LOG_LEVEL: 'silent' },
      dotenvDir: false,
    });
    const transport = toEmulator(createTransport());
    const client = createClient('glm', { config, transport });
    const result = await (
      await client.chat.completions.create({ model: 'glm-4.5-flash', messages: user('plan'), stream: true })
    ).finalResult();
    expect(transport.urls).toEqual(['https://api.z.ai/api/coding/paas/v4/chat/completions']);
    expect(emu.requests.at(-1)?.path).toBe('/glm/api/coding/paas/v4/chat/completions');
    expect(result.content.length).toBeGreaterThan(0);
    transport.close();
  });

  it('the emulator serves the Coding Plan path too', () => {
    expect(emu.baseURL('glm', 'coding')).toBe(`${emu.url}/glm/api/coding/paas/v4`);
  });
});

const exai = (args: string[], env: Record<string, string>) => runExai(args, env);

describe('exai models --live and endpoint errors (CLI)', () => {
  it('marks the catalog entries the provider no longer lists, and says when a provider has no listing', async () => {
    emu.setOptions({ modelListing: { glm: null, kimi: ['kimi-k2.6', 'kimi-k2.7-code'] } });
    const run = await exai(['models', '--live'], testEnv(emu));
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^kimi\s+kimi-k3\s.*\sNO$/m);
    expect(run.stdout).toMatch(/^kimi\s+kimi-k2\.6\s.*\syes$/m);
    expect(run.stdout).toMatch(/^glm\s+glm-5\.3 \s.*\s\?$/m);
    expect(run.stdout).toMatch(
      /^glm: .* live: the provider serves no model listing \(GET \/models answered 404\)$/m,
    );
    expect(run.stdout).toMatch(/^kimi: .* live: 2 models listed by the provider$/m);
    const json = JSON.parse((await exai(['models', '--live', '--json'], testEnv(emu))).stdout);
    expect(json.live).toEqual([
      expect.objectContaining({ provider: 'glm', listed: null }),
      expect.objectContaining({ provider: 'kimi', listed: ['kimi-k2.6', 'kimi-k2.7-code'] }),
    ]);
    expect(json.rows.find((r: { model: string }) => r.model === 'kimi-k3').listed).toBe(false);
    expect(run.stdout + run.stderr).not.toContain(TEST_KEY);
  });

  it('shows base URLs without the credentials they may carry', async () => {
    const run = await exai(
      ['models'],
      testEnv(emu, { KIMI_BASE_URL: 'https://me:s3cr3t-pass@proxy.test/v1' }),
    );
    expect(run.stdout).toMatch(/^kimi: https:\/\/proxy\.test\/v1, key set/m);
    expect(run.stdout).not.toContain('s3cr3t-pass');
  });

  it('a provider without a key is not asked', async () => {
    const run = await exai(['models', '--live'], testEnv(emu, { GLM_API_KEY: '' }));
    expect(run.stdout).toMatch(/^glm: .* live: not asked: no API key$/m);
    expect(emu.requests.filter((r) => r.provider === 'glm')).toHaveLength(0);
  });

  it('a bad endpoint name is exit 2 with one line', async () => {
    const run = await exai(['models'], { GLM_ENDPOINT: 'codeing' });
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(
      /GLM_ENDPOINT: expected one of global, china, coding, coding-china, got "codeing"/,
    );
  });
});

describe('listmodels with live (MCP)', () => {
  it('marks what the provider no longer lists, and says when a provider has no listing', async () => {
    emu.setOptions({ modelListing: { glm: null, kimi: ['kimi-k2.6'] } });
    const conn = await connectStdio(serverEnv(emu));
    try {
      const result = await conn.client.callTool({ name: 'listmodels', arguments: { live: true } });
      const data = result.structuredContent as {
        models: Array<{ model: string; listed?: boolean }>;
        live: Array<{ provider: string; listed: string[] | null; note: string }>;
      };
      expect(data.live).toEqual([
        {
          provider: 'glm',
          listed: null,
          note: 'the provider serves no model listing (GET /models answered 404)',
        },
        { provider: 'kimi', listed: ['kimi-k2.6'], note: '1 model listed by the provider' },
      ]);
      expect(data.models.find((m) => m.model === 'kimi-k3')?.listed).toBe(false);
      expect(data.models.find((m) => m.model === 'glm-5.3')).not.toHaveProperty('listed');
      expect(textOf(result)).toMatch(/kimi-k3 — .*NOT listed by the provider now/);
      expect(textOf(result)).toContain('live: the provider serves no model listing');
      // Without live, no provider is asked.
      const before = emu.requests.length;
      await conn.client.callTool({ name: 'listmodels', arguments: {} });
      expect(emu.requests.length).toBe(before);
    } finally {
      await conn.close();
    }
  });
});
