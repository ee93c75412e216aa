// Shared wiring for the MCP tests: the built `exai serve` as a child (stdio or HTTP), SDK clients
// (v2 and v1) connected to it, and a progress collector that keeps the exai/* fields.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport as V1StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport as V1StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { type Emulator, emulatorAnswer } from '../../src/emulator/index.js';
import type { ProviderName } from '../../src/index.js';
import { testEnv } from './setup.js';

export const BIN = resolve(import.meta.dirname, '../../dist/cli/main.js');
// An empty working directory, so no developer's .env leaks into the server.
export const CWD = mkdtempSync(join(tmpdir(), 'exai-mcp-'));

/** Environment for `exai serve`: dummy keys, emulator URLs, fast coalescing. */
export function serverEnv(emu: Emulator, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    ...testEnv(emu),
    EXAI_LOG_LEVEL: 'warn',
    EXAI_PROGRESS_INTERVAL_MS: '50',
    ...extra,
  };
}

export interface ProgressSeen {
  progress: number;
  message: string;
  delta: string;
  channel: string;
  seq: number;
  heartbeat: boolean;
  /** performance.timeOrigin + performance.now() when the client got it. */
  at: number;
}

type Meta = Record<string, unknown>;

function toSeen(p: { progress: number; message?: string; _meta?: Meta }): ProgressSeen {
  const meta = p._meta ?? {};
  return {
    progress: p.progress,
    message: p.message ?? '',
    delta: String(meta['exai/delta'] ?? ''),
    channel: String(meta['exai/channel'] ?? ''),
    seq: Number(meta['exai/seq']),
    heartbeat: meta['exai/heartbeat'] === true,
    at: performance.timeOrigin + performance.now(),
  };
}

interface TappableTransport {
  onmessage?: ((message: never, extra?: never) => void) | undefined;
  send(message: never, options?: never): Promise<void>;
}

/**
 * Records progress notifications as they come off the wire, keyed by the prompt of the call they
 * belong to. The SDK clients dispatch notifications a microtask late but responses at once, so
 * when the last notification and the result arrive in one read, `onprogress` never sees that
 * notification; the wire does.
 */
export function tapProgress(transport: unknown) {
  const t = transport as TappableTransport;
  const tokens = new Map<string, string | number>();
  const byToken = new Map<string | number, ProgressSeen[]>();
  const send = t.send.bind(t);
  t.send = ((
    message: {
      method?: string;
      params?: { arguments?: { prompt?: unknown; resume_id?: unknown }; _meta?: Meta };
    },
    options,
  ) => {
    const token = message.params?._meta?.progressToken;
    // chat calls are keyed by prompt, chat_resume calls by resume id (the latest call with it).
    const prompt = message.params?.arguments?.prompt ?? message.params?.arguments?.resume_id;
    if (message.method === 'tools/call' && typeof prompt === 'string' && token !== undefined) {
      tokens.set(prompt, token as string | number);
    }
    return send(message as never, options);
  }) as TappableTransport['send'];
  const onmessage = t.onmessage;
  t.onmessage = ((
    message: { method?: string; params?: { progressToken?: string | number } & Meta },
    extra,
  ) => {
    if (message.method === 'notifications/progress' && message.params?.progressToken !== undefined) {
      const token = message.params.progressToken;
      const list = byToken.get(token) ?? [];
      list.push(toSeen(message.params as never));
      byToken.set(token, list);
    }
    onmessage?.(message as never, extra);
  }) as TappableTransport['onmessage'];
  return {
    /** Notifications on the wire for the latest call with this prompt. */
    seen(prompt: string): ProgressSeen[] {
      const token = tokens.get(prompt);
      return token === undefined ? [] : (byToken.get(token) ?? []);
    },
  };
}

export type Wire = ReturnType<typeof tapProgress>;

/**
 * Progress of one call: `onprogress` for the SDK (what the client delivered is in `delivered`),
 * and the notifications on the wire for the exactness checks.
 */
export function progressCollector(wire: Wire, prompt: string) {
  const delivered: ProgressSeen[] = [];
  const onprogress = (p: { progress: number; message?: string; _meta?: Meta }) => {
    delivered.push(toSeen(p));
  };
  const join = (channel: string) =>
    wire
      .seen(prompt)
      .filter((s) => s.channel === channel)
      .map((s) => s.delta)
      .join('');
  return {
    delivered,
    onprogress,
    get seen() {
      return wire.seen(prompt);
    },
    content: () => join('content'),
    reasoning: () => join('reasoning'),
  };
}

export function answerFor(provider: ProviderName, model: string, prompt: string) {
  return emulatorAnswer(provider, { model, messages: [{ role: 'user', content: prompt }] });
}

export interface Connected<C> {
  client: C;
  wire: Wire;
  stderr(): string;
  close(): Promise<void>;
}

function captureStderr(stream: Readable | null): () => string {
  let text = '';
  stream?.setEncoding('utf8');
  stream?.on('data', (s: string) => {
    text += s;
  });
  return () => text;
}

const serveParams = (env: Record<string, string>) => ({
  command: process.execPath,
  args: [BIN, 'serve'],
  cwd: CWD,
  env,
  stderr: 'pipe' as const,
});

/** A v2 SDK client connected to `exai serve` over stdio. Protocol errors are collected, not thrown. */
export async function connectStdio(
  env: Record<string, string>,
): Promise<Connected<Client> & { errors: Error[] }> {
  const transport = new StdioClientTransport(serveParams(env));
  const stderr = captureStderr(transport.stderr as Readable | null);
  const client = new Client({ name: 'exai-test', version: '0' });
  const errors: Error[] = [];
  client.onerror = (e) => errors.push(e);
  await client.connect(transport);
  return { client, stderr, errors, wire: tapProgress(transport), close: () => client.close() };
}

export async function connectStdioV1(env: Record<string, string>): Promise<Connected<V1Client>> {
  const transport = new V1StdioClientTransport(serveParams(env));
  const stderr = captureStderr(transport.stderr as Readable | null);
  const client = new V1Client({ name: 'exai-test-v1', version: '0' });
  await client.connect(transport);
  return { client, stderr, wire: tapProgress(transport), close: () => client.close() };
}

export interface HttpChild {
  url: URL;
  child: ChildProcess;
  stderr(): string;
  /** Resolves with the exit code once the child is gone. */
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

/** `exai serve --http --port 0` as a child; resolves once it logged its URL. */
export async function startHttpChild(env: Record<string, string>, args: string[] = []): Promise<HttpChild> {
  const child = spawn(process.execPath, [BIN, 'serve', '--http', '--port', '0', ...args], {
    cwd: CWD,
    env: { ...env, EXAI_LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const url = await new Promise<URL>((ok, fail) => {
    const timer = setTimeout(() => fail(new Error(`server did not start:\n${err}`)), 10_000);
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      err += s;
      const m = /"url":"([^"]+)"/.exec(err);
      if (m?.[1]) {
        clearTimeout(timer);
        ok(new URL(m[1]));
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      fail(new Error(`server exited with ${code}:\n${err}`));
    });
  });
  return {
    url,
    child,
    stderr: () => err,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

export async function connectHttp(
  url: URL,
  headers: Record<string, string> = {},
): Promise<Connected<Client>> {
  const transport = new StreamableHTTPClientTransport(url, { requestInit: { headers } });
  const client = new Client({ name: 'exai-test', version: '0' });
  await client.connect(transport);
  return { client, stderr: () => '', wire: tapProgress(transport), close: () => client.close() };
}

export async function connectHttpV1(
  url: URL,
  headers: Record<string, string> = {},
): Promise<Connected<V1Client>> {
  const transport = new V1StreamableHTTPClientTransport(url, { requestInit: { headers } });
  const client = new V1Client({ name: 'exai-test-v1', version: '0' });
  await client.connect(transport);
  return { client, stderr: () => '', wire: tapProgress(transport), close: () => client.close() };
}

/** Resolves with the time (performance.timeOrigin + now) at which the emulator saw a client close. */
export function nextClientClose(emu: Emulator): Promise<number> {
  return new Promise((resolve) => {
    emu.once('client-closed', (rec) =>
      resolve(performance.timeOrigin + (rec.clientClosedAt ?? performance.now())),
    );
  });
}

export const now = () => performance.timeOrigin + performance.now();

export function textOf(result: unknown, index = 0): string {
  const content = (result as { content?: Array<{ type: string; text?: string }> }).content ?? [];
  return content[index]?.text ?? '';
}

/**
 * `_meta["exai/result"]` of a chat or chat_resume result: exai's details, hidden from the model.
 * The text is `content[0].text` alone (textOf).
 */
export interface ExaiResultSeen {
  reasoning?: string;
  finish_reason: string | null;
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  metadata: Record<string, unknown> & {
    provider: 'glm' | 'kimi';
    model: string;
    streamed: boolean;
    interrupted: boolean;
    recovered: boolean;
    chunks: number;
    fallback: { reason: string; afterChunks: number } | null;
  };
  error?: { code: string; message: string };
  resume_id?: string;
  continuation_id?: string;
  part: number;
  history?: { turns: number; droppedTurns: number };
}

export function exaiResult(result: unknown): ExaiResultSeen {
  return (result as { _meta?: Record<string, unknown> })._meta?.['exai/result'] as ExaiResultSeen;
}
