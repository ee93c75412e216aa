// Conversations: every chat result names a continuation_id; a chat with it sends the stored history
// (with a thinking model's reasoning) plus the new prompt, bounded by the model's context window.
// On the memory store and on a real redis-server, which may go down and come back.
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, emulatorAnswer, startEmulator } from '../src/emulator/index.js';
import { type Connected, connectStdio, exaiResult, serverEnv, textOf } from './helpers/mcp.js';
import { HAVE_REDIS, type RedisServer, startRedis } from './helpers/redis.js';

let emu: Emulator;
let redis: RedisServer | undefined;
beforeAll(async () => {
  emu = await startEmulator({ paceMs: 0 });
  if (HAVE_REDIS) redis = await startRedis();
});
afterAll(async () => {
  await redis?.stop();
  await emu?.close();
});

type Body = { messages: Array<{ role: string; content: string; reasoning_content?: string }> };
const lastBody = () => emu.requests.at(-1)?.body as unknown as Body;

async function chat(conn: Connected<Client>, args: Record<string, unknown>) {
  const result = await conn.client.callTool({ name: 'chat', arguments: args });
  return { result, meta: exaiResult(result), text: textOf(result), status: textOf(result, 1) };
}

const stores = ['memory', ...(HAVE_REDIS ? ['redis'] : [])] as const;

describe.each(stores)('conversations on the %s store', (kind) => {
  let conn: Connected<Client>;
  beforeAll(async () => {
    conn = await connectStdio(serverEnv(emu, kind === 'redis' ? { EXAI_STORE: redis?.url ?? '' } : {}));
  });
  afterAll(async () => {
    await conn?.close();
  });

  it('sends turns one and two with the third prompt, reasoning kept for a thinking model', async () => {
    const first = await chat(conn, { prompt: 'turn one', model: 'glm-4.6', system_prompt: 'Be terse.' });
    const id = first.meta.continuation_id as string;
    expect(id).toMatch(/^c_/);
    expect(first.status).toContain(id);
    const firstBody = lastBody();
    const second = await chat(conn, { prompt: 'turn two', continuation_id: id });
    expect(second.meta.continuation_id).toBe(id);
    expect(second.meta.history).toEqual({ turns: 1, droppedTurns: 0 });
    const secondBody = lastBody();
    await chat(conn, { prompt: 'turn three', continuation_id: id });
    const body = lastBody();
    const a1 = emulatorAnswer('glm', firstBody as never);
    const a2 = emulatorAnswer('glm', secondBody as never);
    expect(a1.reasoning.length).toBeGreaterThan(0);
    expect(body.messages).toEqual([
      { role: 'system', content: 'Be terse.' },
      { role: 'user', content: 'turn one' },
      { role: 'assistant', content: a1.content, reasoning_content: a1.reasoning },
      { role: 'user', content: 'turn two' },
      { role: 'assistant', content: a2.content, reasoning_content: a2.reasoning },
      { role: 'user', content: 'turn three' },
    ]);
    // The conversation keeps its model when the call names none.
    expect(emu.requests.at(-1)?.model).toBe('glm-4.6');
    expect(first.text).toBe(a1.content);
  });

  it('drops the oldest turns first to fit the context window, and says so', async () => {
    // A model the catalog does not know gets a 32K window; each turn's prompt is ~7500 estimated tokens.
    const long = (n: number) => `question ${n}: ${'many words here '.repeat(1400)}`;
    let id: string | undefined;
    let last: Awaited<ReturnType<typeof chat>> | undefined;
    for (let n = 1; n <= 5; n++) {
      last = await chat(conn, {
        prompt: long(n),
        model: 'kimi-test-small',
        ...(id ? { continuation_id: id } : {}),
      });
      id = last.meta.continuation_id;
    }
    const history = last?.meta.history;
    expect(history?.droppedTurns).toBeGreaterThan(0);
    const users = lastBody()
      .messages.filter((m) => m.role === 'user')
      .map((m) => m.content.slice(0, 12));
    // The newest turns are kept, in order, and the new prompt is last.
    expect(users.at(-1)).toBe('question 5: ');
    expect(users).toHaveLength((history?.turns ?? 0) + 1);
    expect(users[0]).toBe(`question ${5 - (history?.turns ?? 0)}: `);
    // No reasoning is sent for a model without it.
    expect(lastBody().messages.some((m) => 'reasoning_content' in m)).toBe(false);
  });

  it('answers an unknown continuation_id with one clear tool error', async () => {
    const r = await chat(conn, { prompt: 'hello again', continuation_id: 'c_AAAAAAAAAAAAAAAA' });
    expect(r.result.isError).toBe(true);
    expect(r.text).toMatch(/^unknown or expired continuation_id "c_AAAAAAAAAAAAAAAA": /);
  });
});

describe.skipIf(!HAVE_REDIS)('conversations when Redis goes down', () => {
  it('gives clear errors for what needs the store, keeps answering the rest, then recovers', async () => {
    const server = redis as RedisServer;
    const conn = await connectStdio(serverEnv(emu, { EXAI_STORE: server.url }));
    try {
      const before = await chat(conn, { prompt: 'before the outage', model: 'glm-4.5' });
      const id = before.meta.continuation_id as string;
      await server.stop();
      const continued = await chat(conn, { prompt: 'during the outage', continuation_id: id });
      expect(continued.result.isError).toBe(true);
      expect(continued.text).toMatch(
        new RegExp(
          `^cannot continue the conversation: the redis://127\\.0\\.0\\.1:${server.port} store is unavailable`,
        ),
      );
      // A call that needs no stored state still answers, and says it cannot be continued.
      const plain = await chat(conn, { prompt: 'plain during the outage', model: 'glm-4.5' });
      expect(plain.result.isError).toBeFalsy();
      expect(plain.text).toBe(emulatorAnswer('glm', lastBody() as never).content);
      expect(plain.meta.continuation_id).toBeUndefined();
      expect(plain.status).toMatch(
        /^\[exai\] this conversation cannot be continued: cannot save the conversation: the redis/,
      );
      // An answer that outlives the call budget cannot be kept: the text so far, the reason, and
      // the upstream request stopped.
      emu.setOptions({ paceMs: 30 });
      const cut = await chat(conn, {
        prompt: 'too long for the outage',
        model: 'glm-4.5-flash',
        wait_ms: 300,
      });
      emu.setOptions({ paceMs: 0 });
      expect(cut.result.isError).toBeFalsy();
      expect(cut.meta.resume_id).toBeUndefined();
      expect(cut.text.length).toBeGreaterThan(0);
      expect(emulatorAnswer('glm', lastBody() as never).content.startsWith(cut.text)).toBe(true);
      expect(cut.status).toMatch(
        /^\[exai\] The answer above is incomplete \(store\): cannot keep the rest of the answer: the redis:\/\/127\.0\.0\.1:\d+ store is unavailable/,
      );
      await emu.waitForIdle();
      expect(emu.requests.at(-1)?.outcome).toBe('client-closed');
      await server.start();
      // The restarted Redis kept nothing (no persistence): the old id is unknown, new ones work.
      let again = await chat(conn, { prompt: 'after the outage', continuation_id: id });
      for (let i = 0; i < 20 && /unavailable/.test(again.text); i++) {
        await new Promise((r) => setTimeout(r, 100));
        again = await chat(conn, { prompt: 'after the outage', continuation_id: id });
      }
      expect(again.text).toMatch(/^unknown or expired continuation_id/);
      const fresh = await chat(conn, { prompt: 'fresh start', model: 'glm-4.5' });
      const next = await chat(conn, {
        prompt: 'fresh follow-up',
        continuation_id: fresh.meta.continuation_id,
      });
      expect(next.result.isError).toBeFalsy();
      expect(lastBody().messages.map((m) => m.content)).toEqual([
        'fresh start',
        fresh.text,
        'fresh follow-up',
      ]);
    } finally {
      await conn.close();
    }
  }, 30_000);
});
