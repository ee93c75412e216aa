// Answers that outlive the call budget (EXAI_CALL_BUDGET_MS): `chat` returns the text so far with a
// resume id, the upstream stream runs on into the store, `chat_resume` returns the next parts and
// finally the rest. SDK v2 and v1 clients over stdio, against the paced emulator.
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../src/emulator/index.js';
import type { ProviderName } from '../src/index.js';
import { answerFor, type Connected, connectStdio, connectStdioV1, now, serverEnv } from './helpers/mcp.js';
import { type AnyClient, chatToEnd, type Part, part } from './helpers/mcp-resume.js';

// ~70 chunks at 85 ms: an answer of about 6 s.
const PACE_MS = 85;
const BUDGET_MS = 2000;
const CONTINUES = /^\[answer continues: call chat_resume with resume_id "(r_[A-Za-z0-9_-]{16})"\]$/;

let emu: Emulator;
const conns: Record<'v2' | 'v1', Connected<AnyClient>> = {} as never;

beforeAll(async () => {
  emu = await startEmulator({ paceMs: PACE_MS });
  const env = serverEnv(emu, { EXAI_CALL_BUDGET_MS: String(BUDGET_MS) });
  conns.v2 = await connectStdio(env);
  conns.v1 = await connectStdioV1(env);
});
afterAll(async () => {
  for (const c of Object.values(conns)) await c?.close();
  await emu?.close();
});

const MODEL: Record<ProviderName, string> = { glm: 'glm-4.5-flash', kimi: 'kimi-k2-0905-preview' };

function requestsFor(prompt: string) {
  return emu.requests.filter((r) => {
    const messages = (r.body?.messages ?? []) as Array<{ role: string; content: unknown }>;
    return messages.some((m) => m.role === 'user' && m.content === prompt);
  });
}

/** The checks every long answer passes, whatever the client, provider or mode. */
function expectWholeAnswer(parts: Part[], expected: string) {
  expect(parts.length).toBeGreaterThanOrEqual(2);
  const last = parts.at(-1) as Part;
  for (const p of parts.slice(0, -1)) {
    expect(p.isError).toBe(false);
    expect(p.status).toMatch(CONTINUES);
    expect(p.status).toContain(p.meta.resume_id);
    expect(p.meta.finish_reason).toBeNull();
  }
  expect(last.meta.resume_id).toBeUndefined();
  expect(last.meta.finish_reason).toBe('stop');
  expect(last.meta.usage?.total_tokens).toBeGreaterThan(0);
  expect(last.meta.metadata.interrupted).toBe(false);
  expect(last.meta.continuation_id).toMatch(/^c_/);
  expect(last.status).toContain(last.meta.continuation_id);
  // Nothing lost, nothing twice.
  expect(parts.map((p) => p.text).join('')).toBe(expected);
  expect(parts.map((p) => p.meta.part)).toEqual(parts.map((_, i) => i + 1));
  // Progress goes on across the parts: seq 1, 2, 3, … and content deltas that join to the answer.
  const seen = parts.flatMap((p) => p.seen);
  expect(seen.map((s) => s.seq)).toEqual(seen.map((_, i) => i + 1));
  for (let i = 1; i < seen.length; i++) expect(seen[i]?.progress).toBeGreaterThan(seen[i - 1]?.progress ?? 0);
  for (const p of parts) {
    const deltas = p.seen.filter((s) => s.channel === 'content').map((s) => s.delta);
    expect(deltas.join('')).toBe(p.text);
  }
}

describe('chat past the call budget (EXAI_CALL_BUDGET_MS=2000, a ~6 s answer)', () => {
  const cases = (['v2', 'v1'] as const).flatMap((client) =>
    (['glm', 'kimi'] as const).flatMap((provider) =>
      (['stream', 'no-stream'] as const).map((mode) => ({ client, provider, mode })),
    ),
  );
  it.concurrent.each(cases)(
    '$client client, $provider, $mode: chat returns at ~2 s, chat_resume the rest, joined exactly',
    async ({ client, provider, mode }) => {
      const prompt = `long answer ${client} ${provider} ${mode}`;
      const conn = conns[client];
      const parts = await chatToEnd(conn.client, conn.wire, {
        prompt,
        model: MODEL[provider],
        stream: mode === 'stream',
      });
      const expected = answerFor(provider, MODEL[provider], prompt).content;
      expectWholeAnswer(parts, expected);
      const first = parts[0] as Part;
      console.log(
        `[mcp resume] ${client} ${provider} ${mode}: chat returned after ${first.ms.toFixed(0)} ms, ${parts.length} parts`,
      );
      expect(first.ms).toBeGreaterThanOrEqual(BUDGET_MS - 50);
      expect(first.ms).toBeLessThan(BUDGET_MS + 1500);
      if (mode === 'stream') expect(first.text.length).toBeGreaterThan(0);
      // The upstream request ran once, on through the parts.
      expect(requestsFor(prompt)).toHaveLength(1);
      expect(requestsFor(prompt)[0]?.stream).toBe(mode === 'stream');
    },
    60_000,
  );
});

describe('chat_resume', () => {
  it.each([
    ['v2', 'kimi'],
    ['v1', 'glm'],
  ] as const)(
    '%s client, %s: joins exactly when a mid-stream drop is recovered between the parts',
    async (kind, provider) => {
      const { client, wire } = conns[kind];
      // Chunk 40 comes at ~3.4 s: after chat returned, while the answer runs into the store.
      emu.script([{ type: 'drop', afterChunks: 40 }]);
      const prompt = `long answer with a drop ${kind} ${provider}`;
      const parts = await chatToEnd(client, wire, { prompt, model: MODEL[provider] });
      const expected = answerFor(provider, MODEL[provider], prompt).content;
      expectWholeAnswer(parts, expected);
      expect(parts.at(-1)?.meta.metadata.recovered).toBe(true);
      expect(requestsFor(prompt).length).toBe(2);
    },
    60_000,
  );

  it('answers an unknown or malformed resume id with one clear tool error', async () => {
    const { client, wire } = conns.v2;
    for (const id of ['r_AAAAAAAAAAAAAAAA', 'nonsense']) {
      const p = await part(client, wire, 'chat_resume', { resume_id: id });
      expect(p.isError).toBe(true);
      expect(p.text).toMatch(new RegExp(`^unknown or expired resume_id "${id}": `));
    }
  });

  it('a cancelled chat_resume call leaves the answer running; the next call gets the rest', async () => {
    const { client, wire } = conns.v1;
    const prompt = 'long answer, resume cancelled';
    const first = await part(client, wire, 'chat', { prompt, model: MODEL.glm });
    const id = first.meta.resume_id as string;
    expect(id).toBeDefined();
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 300);
    await expect(
      part(client, wire, 'chat_resume', { resume_id: id }, { signal: controller.signal }),
    ).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 200));
    expect(requestsFor(prompt)[0]?.outcome).toBeUndefined();
    const rest: Part[] = [first];
    while (rest.at(-1)?.meta.resume_id) {
      rest.push(await part(client, wire, 'chat_resume', { resume_id: id }));
    }
    expect(rest.map((p) => p.text).join('')).toBe(answerFor('glm', MODEL.glm, prompt).content);
    expect(requestsFor(prompt)[0]?.outcome).toBe('completed');
  }, 60_000);

  it('cancel: true stops the answer upstream at once and returns what arrived, marked incomplete', async () => {
    const { client, wire } = conns.v2;
    const prompt = 'long answer, cancelled';
    const first = await part(client, wire, 'chat', { prompt, model: MODEL.glm });
    const id = first.meta.resume_id as string;
    const closed = new Promise<number>((resolve) =>
      emu.once('client-closed', (rec) => resolve(performance.timeOrigin + (rec.clientClosedAt ?? 0))),
    );
    const askedAt = now();
    const last = await part(client, wire, 'chat_resume', { resume_id: id, cancel: true });
    const ms = (await closed) - askedAt;
    console.log(`[mcp resume] cancel: true → upstream closed in ${ms.toFixed(1)} ms`);
    expect(ms).toBeLessThan(100);
    expect(last.isError).toBe(false);
    expect(last.meta.resume_id).toBeUndefined();
    expect(last.meta.metadata.interrupted).toBe(true);
    expect(last.status).toMatch(/^\[exai\] The answer above is incomplete/);
    const shown = first.text + last.text;
    const expected = answerFor('glm', MODEL.glm, prompt).content;
    expect(expected.startsWith(shown)).toBe(true);
    expect(shown.length).toBeLessThan(expected.length);
    // Its last part was returned: the id is done.
    const again = await part(client, wire, 'chat_resume', { resume_id: id });
    expect(again.isError).toBe(true);
    expect(again.text).toMatch(/is complete: its last part was returned already/);
  }, 30_000);

  it('wait_ms overrides the call budget for one call; 0 waits for the whole answer', async () => {
    const { client, wire } = conns.v2;
    const prompt = 'short budget';
    const quick = await part(client, wire, 'chat', { prompt, model: MODEL.glm, wait_ms: 500 });
    expect(quick.ms).toBeLessThan(BUDGET_MS);
    expect(quick.status).toMatch(CONTINUES);
    await part(client, wire, 'chat_resume', { resume_id: quick.meta.resume_id, cancel: true });
    const whole = await part(client, wire, 'chat', { prompt: 'no budget', model: MODEL.glm, wait_ms: 0 });
    expect(whole.ms).toBeGreaterThan(BUDGET_MS + 1000);
    expect(whole.meta.resume_id).toBeUndefined();
    expect(whole.text).toBe(answerFor('glm', MODEL.glm, 'no budget').content);
  }, 30_000);
});

describe('an answer nobody resumes', () => {
  it('is aborted upstream and dropped after 3 call budgets (at least 5 s)', async () => {
    const slow = await startEmulator({ paceMs: 200 });
    const conn = await connectStdio(serverEnv(slow, { EXAI_CALL_BUDGET_MS: '1000' }));
    try {
      const prompt = 'never resumed';
      const first = await part(conn.client as Client, conn.wire, 'chat', { prompt, model: MODEL.glm });
      const id = first.meta.resume_id as string;
      expect(id).toBeDefined();
      const returnedAt = now();
      const closedAt = await new Promise<number>((resolve) =>
        slow.once('client-closed', () => resolve(now())),
      );
      const idleMs = closedAt - returnedAt;
      console.log(`[mcp resume] unresumed answer aborted ${idleMs.toFixed(0)} ms after chat returned`);
      expect(idleMs).toBeGreaterThan(4500);
      expect(idleMs).toBeLessThan(7000);
      expect(slow.requests[0]?.outcome).toBe('client-closed');
      const late = await part(conn.client as Client, conn.wire, 'chat_resume', { resume_id: id });
      expect(late.isError).toBe(true);
      expect(late.text).toMatch(/unknown or expired resume_id/);
    } finally {
      await conn.close();
      await slow.close();
    }
  }, 30_000);
});
