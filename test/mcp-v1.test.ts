// The core suite with an old-style client (@modelcontextprotocol/sdk 1.32) over stdio and HTTP:
// tools/list, chat with progress, chat without a token, cancellation.
import type { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../src/emulator/index.js';
import {
  answerFor,
  type Connected,
  connectHttpV1,
  connectStdioV1,
  exaiResult,
  type HttpChild,
  nextClientClose,
  now,
  progressCollector,
  serverEnv,
  startHttpChild,
  textOf,
} from './helpers/mcp.js';

let emu: Emulator;
let http: HttpChild;
const conns: Record<string, Connected<V1Client>> = {};

beforeAll(async () => {
  emu = await startEmulator({ paceMs: 10 });
  http = await startHttpChild(serverEnv(emu));
  conns.stdio = await connectStdioV1(serverEnv(emu));
  conns.http = await connectHttpV1(http.url);
});
afterAll(async () => {
  for (const c of Object.values(conns)) await c.close();
  await http?.stop();
  await emu?.close();
});

describe.each(['stdio', 'http'])('exai serve with a v1 SDK client over %s', (kind) => {
  const conn = () => conns[kind] as Connected<V1Client>;

  it('lists the four tools; only the info tools have output schemas', async () => {
    const { tools } = await conn().client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['chat', 'chat_resume', 'listmodels', 'version']);
    for (const t of tools) expect(t.outputSchema === undefined).toBe(t.name.startsWith('chat'));
  });

  it('streams a chat answer as progress whose deltas join to the exact answer', async () => {
    const prompt = `v1 ${kind} stream`;
    const p = progressCollector(conn().wire, prompt);
    const result = await conn().client.callTool(
      { name: 'chat', arguments: { prompt, model: 'glm-4.5-flash' } },
      undefined,
      { onprogress: p.onprogress },
    );
    const expected = answerFor('glm', 'glm-4.5-flash', prompt).content;
    expect(textOf(result)).toBe(expected);
    expect(p.content()).toBe(expected);
    expect(p.delivered.length).toBeGreaterThan(5);
    expect(p.delivered[0]?.delta).toBe(p.seen[0]?.delta);
    for (let i = 1; i < p.seen.length; i++) {
      expect(p.seen[i]?.progress).toBeGreaterThan(p.seen[i - 1]?.progress ?? 0);
    }
    expect(result.structuredContent).toBeUndefined();
    expect(exaiResult(result)).toMatchObject({ metadata: { streamed: true } });
    expect(exaiResult(result)).not.toHaveProperty('content');
  });

  it('answers the same without a progress token and sends no progress', async () => {
    const prompt = `v1 ${kind} quiet`;
    const result = await conn().client.callTool({ name: 'chat', arguments: { prompt, provider: 'kimi' } });
    expect(textOf(result)).toBe(answerFor('kimi', 'kimi-k2-0905-preview', prompt).content);
    expect(conn().wire.seen(prompt)).toEqual([]);
  });

  it('cancelling the call closes the upstream connection within 100 ms', async () => {
    const prompt = `v1 ${kind} cancel`;
    emu.setOptions({ paceMs: 20 });
    try {
      const controller = new AbortController();
      const closed = nextClientClose(emu);
      let abortedAt = 0;
      const p = progressCollector(conn().wire, prompt);
      const call = conn().client.callTool(
        { name: 'chat', arguments: { prompt, model: 'glm-4.5' } },
        undefined,
        {
          signal: controller.signal,
          onprogress: (n) => {
            p.onprogress(n);
            if (p.delivered.length === 2) {
              abortedAt = now();
              controller.abort();
            }
          },
        },
      );
      await expect(call).rejects.toThrow();
      const ms = (await closed) - abortedAt;
      console.log(`[mcp v1 ${kind}] cancel → upstream closed in ${ms.toFixed(1)} ms`);
      expect(ms).toBeLessThan(100);
      expect(answerFor('glm', 'glm-4.5', prompt).content.startsWith(p.content())).toBe(true);
    } finally {
      emu.setOptions({ paceMs: 10 });
    }
  });
});
