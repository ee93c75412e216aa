// Soak and backpressure: thousands of streams with random faults lose and duplicate nothing; a paused
// consumer holds memory bounded while the provider waits.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, emulatorAnswer, type FaultSpec, startEmulator } from '../src/emulator/index.js';
// The emulator's seeded PRNG, so a failing soak run can be replayed.
import { prng } from '../src/emulator/text.js';
import { createClient, createTransport, loadConfig, type ProviderName } from '../src/index.js';
import { testEnv } from './helpers/setup.js';

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator({ words: 30 });
});
afterAll(async () => {
  await emu.close();
});

function randomFault(rand: () => number): FaultSpec {
  const n = 1 + Math.floor(rand() * 20);
  const faults: FaultSpec[] = [
    { type: 'drop', afterChunks: n },
    { type: 'error-frame', afterChunks: n },
    { type: 'malformed', afterChunks: n },
    { type: 'truncate', afterChunks: n },
    { type: 'no-done' },
    { type: 'status', status: 500 },
    { type: 'status', status: 429, retryAfter: '0' },
    { type: 'stall', afterChunks: n, ms: 600 },
  ];
  return faults[Math.floor(rand() * faults.length)] as FaultSpec;
}

describe('soak', () => {
  it('2,000 streams, 20% with random faults, 50 at a time: no lost or duplicated character', async () => {
    const SEED = 20261125;
    const rand = prng(SEED);
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    const transport = createTransport();
    const config = loadConfig({
      env: testEnv(emu, { EXAI_IDLE_TIMEOUT_MS: '300', EXAI_FIRST_TOKEN_TIMEOUT_MS: '2000' }),
      dotenvDir: false,
    });
    const clients = {
      glm: createClient('glm', { config, transport, backoff: { baseMs: 2, maxMs: 20 } }),
      kimi: createClient('kimi', { config, transport, backoff: { baseMs: 2, maxMs: 20 } }),
    };
    const resourcesBefore = process.getActiveResourcesInfo().length;
    // Faults are handed to requests in arrival order, so retries and continuations meet them too.
    emu.reset();
    emu.script(Array.from({ length: 2600 }, () => (rand() < 0.2 ? randomFault(rand) : null)));

    const TOTAL = 2000;
    const tally = {
      exact: 0,
      partial: 0,
      failed: 0,
      bad: [] as string[],
      recovered: 0,
      retried: 0,
      fallback: 0,
    };
    let next = 0;
    const worker = async () => {
      while (next < TOTAL) {
        const i = next++;
        const provider: ProviderName = i % 2 ? 'kimi' : 'glm';
        const model = provider === 'glm' ? 'glm-4.5-flash' : 'kimi-k2-turbo-preview';
        const messages = [{ role: 'user' as const, content: `soak ${i}` }];
        const expected = emulatorAnswer(provider, { model, messages }, { words: 30 }).content;
        try {
          const stream = await clients[provider].chat.completions.create({ model, messages, stream: true });
          let shown = '';
          try {
            for await (const c of stream) shown += c.choices[0]?.delta?.content ?? '';
          } catch {
            // The partial answer is checked below.
          }
          const r = await stream.finalResult();
          if (shown !== r.content) tally.bad.push(`#${i}: shown text differs from the result`);
          if (r.content === expected && !r.metadata.interrupted) tally.exact++;
          else if (r.metadata.interrupted && expected.startsWith(r.content)) tally.partial++;
          else tally.bad.push(`#${i}: content is neither the answer nor a prefix of it`);
          if (r.metadata.recovered) tally.recovered++;
          if (r.metadata.retries) tally.retried++;
          if (r.metadata.fallback) tally.fallback++;
        } catch {
          tally.failed++;
        }
      }
    };
    await Promise.all(Array.from({ length: 50 }, worker));
    transport.close();
    await emu.waitForIdle(5000);
    await expect.poll(() => emu.openSockets(), { timeout: 3000 }).toBe(0);
    await new Promise((r) => setTimeout(r, 50));
    process.off('unhandledRejection', onUnhandled);

    console.info(`soak (seed ${SEED}):`, JSON.stringify({ ...tally, bad: tally.bad.length }));
    expect(tally.bad).toEqual([]);
    expect(unhandled).toEqual([]);
    expect(tally.exact + tally.partial + tally.failed).toBe(TOTAL);
    // Faults are retried and recovered: nearly every stream ends whole.
    expect(tally.exact).toBeGreaterThan(TOTAL * 0.98);
    expect(tally.recovered).toBeGreaterThan(0);
    expect(process.getActiveResourcesInfo().length).toBeLessThanOrEqual(resourcesBefore);
  }, 120_000);
});

describe('backpressure', () => {
  it('a paused consumer keeps memory bounded and the provider waits, then gets every token', async () => {
    const WORDS = 80_000;
    const transport = createTransport();
    const config = loadConfig({ env: testEnv(emu), dotenvDir: false });
    const client = createClient('kimi', { config, transport });
    const messages = [{ role: 'user' as const, content: 'a very long answer' }];
    const model = 'kimi-k2-0905-preview';
    emu.reset();
    emu.script([{ type: 'none', words: WORDS }]);
    const expected = emulatorAnswer('kimi', { model, messages }, { words: WORDS }).content;
    const stream = await client.chat.completions.create({ model, messages, stream: true });
    const iterator = stream[Symbol.asyncIterator]();
    await iterator.next();
    global.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    // The consumer pauses for a second: exai stops reading, TCP pushes back on the emulator.
    await new Promise((r) => setTimeout(r, 1000));
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
    expect(emu.requests.at(-1)?.endedAt).toBeUndefined();
    expect(heapGrowth).toBeLessThan(16 * 1024 * 1024);
    expect(expected.length).toBeGreaterThan(400_000);
    let rest = '';
    for (let r = await iterator.next(); !r.done; r = await iterator.next()) {
      rest += r.value.choices[0]?.delta?.content ?? '';
    }
    const result = await stream.finalResult();
    expect(result.content).toBe(expected);
    expect(expected.endsWith(rest)).toBe(true);
    transport.close();
  }, 60_000);
});
