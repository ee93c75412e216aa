// Streams as the real APIs send them (test/fixtures/recorded, sources in its manifest), replayed byte
// for byte by a local server (whole, cut at random points, one byte per write) through the library,
// the CLI and the MCP tool. Each run must give the recorded answer from exactly one request.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  APIError,
  createClient,
  createTransport,
  loadConfig,
  type ProviderName,
  type Transport,
} from '../src/index.js';
import { runExai } from './helpers/cli.js';
import { connectStdio, textOf } from './helpers/mcp.js';
import { type Framing, type Replay, startReplay } from './helpers/replay-server.js';
import { TEST_KEY } from './helpers/setup.js';

interface Recorded {
  file: string;
  provider: ProviderName;
  model: string;
  source: string;
  /** A stream that is an error from its first frame: what the error must carry. */
  error?: { code: string; requestId: string; message: string };
  expected?: {
    content: string;
    reasoning: string;
    toolCalls: unknown[];
    usage: Record<string, unknown> | null;
    finishReason: string;
    providerFinishReason?: string;
  };
}

const DIR = new URL('./fixtures/recorded/', import.meta.url);
const MANIFEST: Recorded[] = JSON.parse(readFileSync(new URL('manifest.json', DIR), 'utf8'));
const bytesOf = (r: Recorded) => new Uint8Array(readFileSync(new URL(r.file, DIR)));
const ANSWERS = MANIFEST.filter((r) => r.expected);
const ERRORS = MANIFEST.filter((r) => r.error);

/** The answer a manifest entry expects (entries without one are errors, tested apart). */
function expected(r: Recorded): NonNullable<Recorded['expected']> {
  if (!r.expected) throw new Error(`${r.file} has no expected answer`);
  return r.expected;
}

let replay: Replay;
let transport: Transport;
beforeAll(async () => {
  replay = await startReplay();
  transport = createTransport();
});
afterAll(async () => {
  transport.close();
  await replay.close();
});

const env = () => ({
  GLM_API_KEY: TEST_KEY,
  KIMI_API_KEY: TEST_KEY,
  GLM_BASE_URL: replay.baseURL,
  KIMI_BASE_URL: replay.baseURL,
  EXAI_LOG_LEVEL: 'silent',
});

it('the manifest covers every fixture file, each with a source', () => {
  const files = MANIFEST.map((r) => r.file);
  expect(new Set(files).size).toBe(files.length);
  expect(files.length).toBeGreaterThanOrEqual(10);
  for (const r of MANIFEST) {
    expect(r.source.length).toBeGreaterThan(20);
    expect(bytesOf(r).length).toBeGreaterThan(0);
    expect(Boolean(r.expected) !== Boolean(r.error)).toBe(true);
  }
});

const FRAMINGS: Array<[Framing, number]> = [
  ['whole', 0],
  ['random', 7],
  ['random', 1234],
  ['bytes', 0],
];

describe.each(ANSWERS)('$file', (r) => {
  it.each(FRAMINGS)('through the library, framed %s (seed %i)', async (framing, seed) => {
    replay.play(bytesOf(r), framing, seed);
    const config = loadConfig({ env: env(), dotenvDir: false });
    const client = createClient(r.provider, { config, transport });
    const stream = await client.chat.completions.create({
      model: r.model,
      messages: [{ role: 'user', content: 'replay' }],
      stream: true,
    });
    let seen = '';
    for await (const chunk of stream) seen += chunk.choices[0]?.delta?.content ?? '';
    const result = await stream.finalResult();
    const e = expected(r);
    expect(seen).toBe(e.content);
    expect(result.content).toBe(e.content);
    expect(result.reasoning).toBe(e.reasoning);
    expect(result.toolCalls).toEqual(e.toolCalls);
    expect(result.usage).toEqual(e.usage);
    expect(result.finishReason).toBe(e.finishReason);
    expect(result.metadata.providerFinishReason).toBe(e.providerFinishReason);
    expect(result.metadata).toMatchObject({ streamed: true, interrupted: false, retries: 0 });
    expect(replay.requests).toHaveLength(1);
  });
});

const exai = (args: string[]) => runExai(args, env());

/** Every recorded answer in each framing, for the consumers that run as a process. */
const ANSWER_FRAMINGS = ANSWERS.flatMap((r) =>
  (['whole', 'random', 'bytes'] as const).map((framing) => ({ ...r, framing })),
);

describe('through the CLI (exai chat --json)', () => {
  it.each(ANSWER_FRAMINGS)('$file, framed $framing', async (r) => {
    const e = expected(r);
    replay.play(bytesOf(r), r.framing, 99);
    const run = await exai(['chat', '--json', '--model', r.model, 'replay']);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({
      content: e.content,
      reasoning: e.reasoning,
      toolCalls: e.toolCalls,
      usage: e.usage,
      finishReason: e.finishReason,
    });
    expect(replay.requests).toHaveLength(1);
  });
});

describe('through the MCP chat tool (stdio)', () => {
  let conn: Awaited<ReturnType<typeof connectStdio>>;
  beforeAll(async () => {
    conn = await connectStdio({ PATH: process.env.PATH ?? '', ...env(), EXAI_LOG_LEVEL: 'warn' });
  });
  afterAll(async () => {
    await conn.close();
  });

  it.each(ANSWER_FRAMINGS)('$file, framed $framing', async (r) => {
    const e = expected(r);
    replay.play(bytesOf(r), r.framing, 42);
    const result = (await conn.client.callTool({
      name: 'chat',
      arguments: { prompt: 'replay', model: r.model, show_reasoning: true },
    })) as { _meta?: Record<string, unknown>; structuredContent?: Record<string, unknown> };
    // The details: `_meta["exai/result"]` where the server puts them there, else structuredContent.
    const details = (result._meta?.['exai/result'] ?? result.structuredContent) as Record<string, unknown>;
    expect(textOf(result)).toBe(e.content);
    expect(details).toMatchObject({
      // An answer without reasoning carries no reasoning field.
      ...(e.reasoning ? { reasoning: e.reasoning } : {}),
      finish_reason: e.finishReason,
      usage: e.usage,
    });
    expect(replay.requests).toHaveLength(1);
  });
  it.each(ERRORS)('$file: an isError result naming the provider code, after one request', async (r) => {
    replay.play(bytesOf(r), 'random', 3);
    const result = (await conn.client.callTool({
      name: 'chat',
      arguments: { prompt: 'replay', model: r.model },
    })) as { isError?: boolean };
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain(r.error?.code);
    expect(textOf(result)).not.toContain(TEST_KEY);
    expect(replay.requests).toHaveLength(1);
  });
});

describe.each(ERRORS)('$file: an error from the first frame', (r) => {
  const error = r.error as NonNullable<Recorded['error']>;

  it.each(FRAMINGS)(
    "library, framed %s (seed %i): one request, the code and the frame's request id",
    async (framing, seed) => {
      replay.play(bytesOf(r), framing, seed);
      const config = loadConfig({ env: env(), dotenvDir: false });
      const client = createClient(r.provider, { config, transport });
      const failure = await client.chat.completions
        .create({ model: r.model, messages: [{ role: 'user', content: 'replay' }], stream: true })
        .then((stream) => stream.finalResult())
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(failure).toBeInstanceOf(APIError);
      expect(failure).toMatchObject({ code: error.code, requestId: error.requestId });
      expect((failure as Error).message).toContain(error.message);
      expect(replay.requests).toHaveLength(1);
    },
  );

  it('CLI: exit 1, one line naming the code', async () => {
    replay.play(bytesOf(r), 'random', 5);
    const run = await exai(['chat', '--model', r.model, 'replay']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(error.code);
    expect(run.stderr).not.toContain(TEST_KEY);
    expect(replay.requests).toHaveLength(1);
  });
});
