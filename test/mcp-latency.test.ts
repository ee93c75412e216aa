// How long a token takes from the emulator writing it to an MCP client receiving it as progress,
// at 1 and 20 concurrent calls: p50/p99 printed as a table (no timing assertions beyond sanity).
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../src/emulator/index.js';
import {
  answerFor,
  type Connected,
  connectHttp,
  connectStdio,
  type HttpChild,
  progressCollector,
  serverEnv,
  startHttpChild,
} from './helpers/mcp.js';
import { percentile, startTap, type Tap, tokenDelays } from './helpers/mcp-tap.js';

let emu: Emulator;
let tap: Tap;
const children: HttpChild[] = [];
const conns: Connected<Client>[] = [];
const rows: string[] = [];

beforeAll(async () => {
  emu = await startEmulator({ paceMs: 10, timestamps: true });
  tap = await startTap(emu.baseURL('glm'));
});
afterAll(async () => {
  for (const c of conns) await c.close();
  for (const c of children) await c.stop();
  await tap?.close();
  await emu?.close();
  console.log(
    [
      '\nMCP token latency: emulator write → client receives the progress update carrying the token',
      '| transport | coalescing | concurrent calls | tokens | p50 ms | p99 ms |',
      '|---|---|---|---|---|---|',
      ...rows,
    ].join('\n'),
  );
});

async function connect(kind: 'stdio' | 'http', intervalMs: number): Promise<Connected<Client>> {
  const env = serverEnv(emu, { GLM_BASE_URL: tap.baseURL, EXAI_PROGRESS_INTERVAL_MS: String(intervalMs) });
  let conn: Connected<Client>;
  if (kind === 'stdio') conn = await connectStdio(env);
  else {
    const child = await startHttpChild(env);
    children.push(child);
    conn = await connectHttp(child.url);
  }
  conns.push(conn);
  return conn;
}

describe.each([
  ['stdio', 0],
  ['stdio', 100],
  ['http', 0],
] as const)('token latency over %s with a %d ms coalescing window', (kind, intervalMs) => {
  let conn: Connected<Client>;
  beforeAll(async () => {
    conn = await connect(kind, intervalMs);
  });

  it.each([1, 20])('measures p50/p99 at %d concurrent calls', async (n) => {
    const prompts = Array.from({ length: n }, (_, i) => `latency ${kind} ${intervalMs} ${n} ${i}`);
    const delays = (
      await Promise.all(
        prompts.map(async (prompt) => {
          const p = progressCollector(conn.wire, prompt);
          await conn.client.callTool(
            { name: 'chat', arguments: { prompt, model: 'glm-4.5-flash' } },
            { onprogress: p.onprogress },
          );
          expect(p.content()).toBe(answerFor('glm', 'glm-4.5-flash', prompt).content);
          const tokens = tap.tokens(prompt);
          expect(tokens.map((t) => t.text).join('')).toBe(p.content());
          return tokenDelays(
            tokens,
            p.seen.filter((s) => s.channel === 'content'),
          );
        }),
      )
    ).flat();
    const p50 = percentile(delays, 50);
    const p99 = percentile(delays, 99);
    rows.push(
      `| ${kind} | ${intervalMs} ms | ${n} | ${delays.length} | ${p50.toFixed(1)} | ${p99.toFixed(1)} |`,
    );
    expect(delays.length).toBeGreaterThan(50 * n);
    // Sanity only: every token arrives, and none later than the window plus a generous margin.
    expect(Math.min(...delays)).toBeGreaterThan(0);
    expect(p99).toBeLessThan(intervalMs + 1000);
  });
});
