// What a host hands its model, and what keeps a host with a short progress-reset timeout alive:
// the result text is the answer alone, and a thinking model's hidden reasoning still brings
// progress within 1 s and then at least every 5 s.
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../src/emulator/index.js';
import {
  answerFor,
  type Connected,
  connectStdio,
  exaiResult,
  progressCollector,
  serverEnv,
} from './helpers/mcp.js';

let emu: Emulator;
let conn: Connected<Client>;

beforeAll(async () => {
  emu = await startEmulator({ paceMs: 5 });
  conn = await connectStdio(serverEnv(emu));
});
afterAll(async () => {
  await conn?.close();
  await emu?.close();
});

describe('the result a host gives its model', () => {
  it.each([false, true])(
    'is the answer and one short status line, with show_reasoning %s: no reasoning, no metadata JSON',
    async (showReasoning) => {
      const prompt = `host view ${showReasoning}`;
      const result = await conn.client.callTool({
        name: 'chat',
        arguments: { prompt, model: 'glm-4.6', show_reasoning: showReasoning },
      });
      const expected = answerFor('glm', 'glm-4.6', prompt);
      expect(expected.reasoning.length).toBeGreaterThan(0);
      // What Claude Code and Codex give the model: structuredContent if present, else the text items.
      expect(result.structuredContent).toBeUndefined();
      const items = result.content as Array<{ type: string; text: string }>;
      expect(items).toHaveLength(2);
      expect(items[0]).toEqual({ type: 'text', text: expected.content });
      const status = items[1]?.text ?? '';
      expect(status).toMatch(/^\[exai\] continuation_id "c_[A-Za-z0-9_-]{16}": pass it to chat/);
      expect(status.length).toBeLessThan(120);
      const seen = items.map((i) => i.text).join('\n');
      expect(seen).not.toContain(expected.reasoning.slice(0, 40));
      expect(seen).not.toMatch(/"finish_reason"|"metadata"|"usage"|\{"/);
      // The details are there for programs, in _meta.
      const meta = exaiResult(result);
      // The text is content[0] alone: a second copy in _meta would double every result.
      expect(meta).not.toHaveProperty('content');
      expect(meta.finish_reason).toBe('stop');
      expect(meta.metadata.model).toBe('glm-4.6');
      expect(meta.reasoning).toBe(showReasoning ? expected.reasoning : undefined);
    },
  );
});

describe('progress while a thinking model reasons unseen', () => {
  it('goes out within 1 s of the first reasoning chunk, then at least every 5 s', async () => {
    // ~30 reasoning chunks at 250 ms: about 7.5 s of thinking before a 3-token answer.
    emu.setOptions({ paceMs: 250 });
    try {
      const prompt = 'think quietly';
      const p = progressCollector(conn.wire, prompt);
      await conn.client.callTool(
        { name: 'chat', arguments: { prompt, model: 'glm-4.6', max_tokens: 3, wait_ms: 0 } },
        { onprogress: p.onprogress },
      );
      const request = emu.requests.at(-1);
      const firstReasoningAt = performance.timeOrigin + (request?.startedAt ?? 0);
      const thinking = p.seen.filter((s) => s.channel === 'content' && s.delta === '');
      expect(thinking.length).toBeGreaterThanOrEqual(2);
      expect(thinking[0]?.message).toMatch(/^glm-4\.6 is thinking… \(\d+s\)$/);
      const firstMs = (thinking[0]?.at ?? 0) - firstReasoningAt;
      console.log(`[mcp] first progress ${firstMs.toFixed(0)} ms after the request began (reasoning hidden)`);
      expect(firstMs).toBeLessThan(1000);
      const firstText = p.seen.find((s) => s.delta !== '');
      const marks = [...thinking.map((s) => s.at), firstText?.at ?? 0];
      for (let i = 1; i < marks.length; i++) expect((marks[i] ?? 0) - (marks[i - 1] ?? 0)).toBeLessThan(5500);
      expect(p.seen.some((s) => s.channel === 'reasoning')).toBe(false);
    } finally {
      emu.setOptions({ paceMs: 5 });
    }
  }, 30_000);
});
