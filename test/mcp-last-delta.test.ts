// The end of a call: an SDK v1 client under 30 concurrent stdio calls must get every progress
// delta through `onprogress`, not only on the wire (it drops a notification that arrives in the
// same read as the result unless the server makes sure it was taken in first).
import type { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../src/emulator/index.js';
import {
  answerFor,
  type Connected,
  connectHttpV1,
  connectStdioV1,
  type HttpChild,
  serverEnv,
  startHttpChild,
} from './helpers/mcp.js';

let emu: Emulator;
let http: HttpChild;
const conns: Record<string, Connected<V1Client>> = {};

beforeAll(async () => {
  emu = await startEmulator({ paceMs: 2 });
  const env = serverEnv(emu, { EXAI_PROGRESS_INTERVAL_MS: '20' });
  http = await startHttpChild(env);
  conns.stdio = await connectStdioV1(env);
  conns.http = await connectHttpV1(http.url);
});
afterAll(async () => {
  for (const c of Object.values(conns)) await c.close();
  await http?.stop();
  await emu?.close();
});

const RUNS = 5;
const CALLS = 30;

describe.each(['stdio', 'http'])('the last progress delta with an SDK v1 client over %s', (kind) => {
  it(`reaches onprogress in every one of ${CALLS} concurrent calls, ${RUNS} runs`, async () => {
    const conn = conns[kind] as Connected<V1Client>;
    const lostPerRun: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const outcomes = await Promise.all(
        Array.from({ length: CALLS }, async (_, i) => {
          const prompt = `last delta ${kind} ${run} ${i}`;
          const deltas: string[] = [];
          const result = await conn.client.callTool(
            { name: 'chat', arguments: { prompt, model: 'glm-4.5-flash' } },
            undefined,
            {
              onprogress: (p) => {
                const meta = (p as { _meta?: Record<string, unknown> })._meta ?? {};
                if (meta['exai/channel'] === 'content') deltas.push(String(meta['exai/delta'] ?? ''));
              },
            },
          );
          const expected = answerFor('glm', 'glm-4.5-flash', prompt).content;
          const text = (result.content as Array<{ text?: string }>)[0]?.text;
          expect(text).toBe(expected);
          return deltas.join('') === expected;
        }),
      );
      lostPerRun.push(outcomes.filter((ok) => !ok).length);
    }
    console.log(`[mcp v1 ${kind}] calls that lost a delta, per run of ${CALLS}: ${lostPerRun.join(', ')}`);
    expect(lostPerRun).toEqual(Array(RUNS).fill(0));
  }, 120_000);
});
