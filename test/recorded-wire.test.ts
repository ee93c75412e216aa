// Streams as the real APIs send them (test/fixtures/recorded, sources in its manifest), replayed byte
// for byte by a local server (whole, cut at random points, one byte per write) through the library,
// the CLI and the MCP tool. Each run must give the recorded answer from exactly one request.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createClient,
  createTransport,
  loadConfig,
  type ProviderName,
  type Transport,
} from '../src/index.js';
import { BIN, CWD, connectStdio, textOf } from './helpers/mcp.js';
import { type Framing, type Replay, startReplay } from './helpers/replay-server.js';
import { TEST_KEY } from './helpers/setup.js';

interface Recorded {
  file: string;
  provider: ProviderName;
  model: string;
  source: string;
  expected: {
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
  }
});

const FRAMINGS: Array<[Framing, number]> = [
  ['whole', 0],
  ['random', 7],
  ['random', 1234],
  ['bytes', 0],
];

describe.each(MANIFEST)('$file', (r) => {
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
    expect(seen).toBe(r.expected.content);
    expect(result.content).toBe(r.expected.content);
    expect(result.reasoning).toBe(r.expected.reasoning);
    expect(result.toolCalls).toEqual(r.expected.toolCalls);
    expect(result.usage).toEqual(r.expected.usage);
    expect(result.finishReason).toBe(r.expected.finishReason);
    expect(result.metadata.providerFinishReason).toBe(r.expected.providerFinishReason);
    expect(result.metadata).toMatchObject({ streamed: true, interrupted: false, retries: 0 });
    expect(replay.requests).toHaveLength(1);
  });
});

function exai(args: string[]) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { PATH: process.env.PATH ?? '', ...env() },
      cwd: CWD,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => (stdout += b));
    child.stderr.on('data', (b) => (stderr += b));
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}

describe('through the CLI (exai chat --json), cut at random points', () => {
  it.each(MANIFEST)('$file', async (r) => {
    replay.play(bytesOf(r), 'random', 99);
    const run = await exai(['chat', '--json', '--model', r.model, 'replay']);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({
      content: r.expected.content,
      reasoning: r.expected.reasoning,
      toolCalls: r.expected.toolCalls,
      usage: r.expected.usage,
      finishReason: r.expected.finishReason,
    });
    expect(replay.requests).toHaveLength(1);
  });
});

describe('through the MCP chat tool (stdio), one byte per write', () => {
  let conn: Awaited<ReturnType<typeof connectStdio>>;
  beforeAll(async () => {
    conn = await connectStdio({ PATH: process.env.PATH ?? '', ...env(), EXAI_LOG_LEVEL: 'warn' });
  });
  afterAll(async () => {
    await conn.close();
  });

  it.each(MANIFEST)('$file', async (r) => {
    replay.play(bytesOf(r), 'bytes');
    const result = (await conn.client.callTool({
      name: 'chat',
      arguments: { prompt: 'replay', model: r.model, show_reasoning: true },
    })) as { _meta?: Record<string, unknown>; structuredContent?: Record<string, unknown> };
    // The details: `_meta["exai/result"]` where the server puts them there, else structuredContent.
    const details = (result._meta?.['exai/result'] ?? result.structuredContent) as Record<string, unknown>;
    expect(textOf(result)).toBe(r.expected.content);
    expect(details).toMatchObject({
      content: r.expected.content,
      // An answer without reasoning carries no reasoning field.
      ...(r.expected.reasoning ? { reasoning: r.expected.reasoning } : {}),
      finish_reason: r.expected.finishReason,
      usage: r.expected.usage,
    });
    expect(replay.requests).toHaveLength(1);
  });
});
