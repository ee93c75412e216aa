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
    { type: 'error-frame', afterChunks: n > 10 ? 0 : n, code: '1302' },
    { type: 'status', status: 429, code: 'rate_limit_reached_error', retryAfter: '0' },
    { type: 'truncate', afterChunks: n, sameSpot: true },
    { type: 'refuse-stream', mode: 'unsupported' },
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
    const MAX_RETRIES = config.maxRetries;
    // One client per call, so its log says which requests followed new text (they spend no budget).
    const clientFor = (provider: ProviderName) => {
      const progress = { continuations: 0 };
      const logger = {
        debug() {},
        info() {},
        error() {},
        warn(msg: string) {
          if (msg.startsWith('stream broke after new text')) progress.continuations++;
        },
      };
      const client = createClient(provider, { config, transport, logger, backoff: { baseMs: 2, maxMs: 20 } });
      return { client, progress };
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
      maxRequests: 0,
      maxWithoutProgress: 0,
    };
    const requestsOf = new Map<string, number>();
    const onRequest = (r: { body: Record<string, unknown> | null }) => {
      const first = (r.body?.messages as Array<{ content?: unknown }> | undefined)?.[0]?.content;
      if (typeof first === 'string') requestsOf.set(first, (requestsOf.get(first) ?? 0) + 1);
    };
    emu.on('request', onRequest);
    let next = 0;
    const worker = async () => {
      while (next < TOTAL) {
        const i = next++;
        const provider: ProviderName = i % 2 ? 'kimi' : 'glm';
        const model = provider === 'glm' ? 'glm-4.5-flash' : 'kimi-k2-turbo-preview';
        const messages = [{ role: 'user' as const, content: `soak ${i}` }];
        const expected = emulatorAnswer(provider, { model, messages }, { words: 30 }).content;
        const { client, progress } = clientFor(provider);
        try {
          const stream = await client.chat.completions.create({ model, messages, stream: true });
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
          // The budget: every request is counted, and those that brought nothing new stay within it.
          const withoutProgress = r.metadata.requests - progress.continuations;
          tally.maxRequests = Math.max(tally.maxRequests, r.metadata.requests);
          tally.maxWithoutProgress = Math.max(tally.maxWithoutProgress, withoutProgress);
          // A request cut before the emulator read its body cannot be attributed: at least these.
          // (The fault matrix checks the count exactly.)
          if (r.metadata.requests < (requestsOf.get(`soak ${i}`) ?? 0)) {
            tally.bad.push(`#${i}: ${r.metadata.requests} requests reported, more were made`);
          }
          if (withoutProgress > MAX_RETRIES + 2) {
            tally.bad.push(`#${i}: ${withoutProgress} requests brought nothing new`);
          }
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
    emu.off('request', onRequest);

    console.info(`soak (seed ${SEED}):`, JSON.stringify({ ...tally, bad: tally.bad.length }));
    expect(tally.bad.slice(0, 10)).toEqual([]);
    expect(unhandled).toEqual([]);
    expect(tally.exact + tally.partial + tally.failed).toBe(TOTAL);
    // Faults are retried and recovered: nearly every stream ends whole.
    expect(tally.exact).toBeGreaterThan(TOTAL * 0.98);
    expect(tally.recovered).toBeGreaterThan(0);
    expect(tally.maxWithoutProgress).toBeLessThanOrEqual(MAX_RETRIES + 2);
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
    // What the paused stream holds, not the garbage the emulator (in this process) made meanwhile.
    global.gc?.();
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore;
    console.log(`[soak] paused consumer: heap growth ${(heapGrowth / 1048576).toFixed(1)} MB`);
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
