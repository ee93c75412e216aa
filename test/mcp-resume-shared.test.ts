// Resumable answers on a shared Redis store between two `exai serve` processes (stdio): parts of an
// answer run by X are served by Y, and when X dies outright Y says the answer was lost and returns
// what was stored. Runs without nginx; the reverse-proxy test covers the same behind a proxy.
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../src/emulator/index.js';
import { answerFor, type Connected, connectStdio, serverEnv } from './helpers/mcp.js';
import { type Part, part } from './helpers/mcp-resume.js';
import { HAVE_REDIS, type RedisServer, startRedis } from './helpers/redis.js';

const MODEL = 'kimi-k2-0905-preview';

describe.skipIf(!HAVE_REDIS)('resumable answers shared through Redis by two servers', () => {
  let emu: Emulator;
  let redis: RedisServer;
  let x: Connected<Client> & { errors: Error[] };
  let y: Connected<Client> & { errors: Error[] };

  beforeAll(async () => {
    emu = await startEmulator({ paceMs: 100 });
    redis = await startRedis();
    const env = serverEnv(emu, { EXAI_STORE: redis.url, EXAI_CALL_BUDGET_MS: '1000' });
    [x, y] = await Promise.all([connectStdio(env), connectStdio(env)]);
  });
  afterAll(async () => {
    await x?.close().catch(() => undefined);
    await y?.close();
    await redis?.stop();
    await emu?.close();
  });

  it('serves the parts of an answer on the other server; when the first dies, says it was lost', async () => {
    const prompt = 'run on X, read on Y';
    const parts: Part[] = [await part(x.client, x.wire, 'chat', { prompt, model: MODEL })];
    const id = parts[0]?.meta.resume_id as string;
    expect(id).toBeDefined();
    parts.push(await part(y.client, y.wire, 'chat_resume', { resume_id: id }));
    expect(parts[1]?.text.length).toBeGreaterThan(0);
    expect(parts[1]?.meta.resume_id).toBe(id);
    // X dies without a word: no final record, and its `alive` key runs out.
    const pid = (x.client.transport as { pid?: number | null } | undefined)?.pid;
    expect(pid).toBeGreaterThan(0);
    process.kill(pid as number, 'SIGKILL');
    const started = Date.now();
    let last = parts.at(-1) as Part;
    while (last.meta.resume_id) {
      last = await part(y.client, y.wire, 'chat_resume', { resume_id: id });
      parts.push(last);
    }
    const ms = Date.now() - started;
    console.log(`[mcp resume] a dead server's answer reported lost after ${ms} ms`);
    expect(ms).toBeLessThan(8000);
    expect(last.isError).toBe(false);
    expect(last.meta.error?.code).toBe('lost');
    expect(last.meta.continuation_id).toBeUndefined();
    expect(last.status).toMatch(
      /^\[exai\] The answer above is incomplete \(lost\): the server that ran this answer stopped/,
    );
    const shown = parts.map((p) => p.text).join('');
    expect(answerFor('kimi', MODEL, prompt).content.startsWith(shown)).toBe(true);
  }, 30_000);
});
