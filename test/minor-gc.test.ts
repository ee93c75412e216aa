// What a finished stream leaves for the young generation's collector: nothing it held may live on
// through a minor GC. V8 keeps an object literal's accessor pair in old space, so a getter's closure
// and what it captured are reached from there by every minor GC until the next full one: the request
// an attempt sent (an object literal with a getter, once) kept its whole run alive that way, and the
// transport's response (with a getter and a setter) its body and request. Each test marks what it
// runs with a 64 KiB ArrayBuffer, whose bytes `process.memoryUsage().arrayBuffers` counts until the
// buffer is collected.
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../src/emulator/index.js';
import { type ChatCompletionCreateParams, createTransport } from '../src/index.js';
import { TEST_KEY, testClient, user } from './helpers/setup.js';

const MARK = Symbol('marker');
const MARKER_BYTES = 64 * 1024;
const RUNS = 40;

type Gc = (options?: { type: 'minor' | 'major' }) => void;
const gc = (globalThis as { gc?: Gc }).gc;

/**
 * The share of `RUNS` markers that a minor GC left and a full GC then freed, after `run(true)` ran
 * RUNS times in a row (each marks what it runs), following warm-up runs and a full GC.
 */
async function keptThroughMinorGc(run: (mark: boolean) => Promise<void>): Promise<number> {
  const collect = gc as Gc;
  for (let i = 0; i < 10; i++) await run(false);
  collect();
  await sleep(20);
  for (let i = 0; i < RUNS; i++) await run(true);
  await sleep(5);
  collect({ type: 'minor' });
  collect({ type: 'minor' });
  // Freed backing stores are counted once the sweeper has run.
  await sleep(20);
  const afterMinor = process.memoryUsage().arrayBuffers;
  collect();
  await sleep(20);
  return (afterMinor - process.memoryUsage().arrayBuffers) / (RUNS * MARKER_BYTES);
}

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator();
});
afterAll(async () => {
  await emu.close();
});

describe.skipIf(!gc)('a finished stream is garbage for a minor GC', () => {
  it('(the control: what an object literal with a getter captures outlives minor GCs)', async () => {
    // Proves the method sees what it looks for on this V8; were V8 to stop doing this, the two
    // tests below would pass whatever the code did.
    const kept: unknown[] = [];
    const share = await keptThroughMinorGc(async (mark) => {
      const marker = mark ? new ArrayBuffer(MARKER_BYTES) : undefined;
      const literal = {
        get marker() {
          return marker;
        },
      };
      // Made and dropped, as a request is once the transport has sent it (the push never runs:
      // it only keeps the compiler from leaving the literal out).
      if (kept.length > 1_000_000) kept.push(literal);
    });
    expect(share).toBeGreaterThan(0.75);
  });

  it('the run, its attempt and the request it sent, after a streamed answer was read to its end', async () => {
    const { client, transport } = testClient(emu, 'glm');
    try {
      const kept = await keptThroughMinorGc(async (mark) => {
        const params: ChatCompletionCreateParams & { stream: true; [MARK]?: ArrayBuffer } = {
          model: 'glm-4.5-flash',
          messages: user('hi'),
          stream: true,
        };
        // The run keeps its call's parameters: the marker lives as long as the run does.
        if (mark) params[MARK] = new ArrayBuffer(MARKER_BYTES);
        const stream = await client.chat.completions.create(params);
        for await (const _ of stream);
        expect((await stream.finalResult()).content.length).toBeGreaterThan(0);
      });
      // One run caught by a minor GC of its own may survive it; forty whole runs did.
      expect(kept).toBeLessThan(0.25);
    } finally {
      transport.close();
    }
  });

  it("the transport's response and its body", async () => {
    const transport = createTransport();
    try {
      const kept = await keptThroughMinorGc(async (mark) => {
        const res = await transport.request({
          url: `${emu.baseURL('glm')}/chat/completions`,
          headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'glm-4.5-flash', messages: user('hi'), stream: true }),
          // Closed through the handle (here one that never closes it), so the signal goes unread.
          signal: AbortSignal.timeout(5000),
          handle: { attach() {} },
        });
        if (mark) (res.body as unknown as { [MARK]: ArrayBuffer })[MARK] = new ArrayBuffer(MARKER_BYTES);
        res.body.resume();
        await new Promise((resolve) => res.body.once('end', resolve));
        expect(res.status).toBe(200);
      });
      expect(kept).toBeLessThan(0.25);
    } finally {
      transport.close();
    }
  });
});
