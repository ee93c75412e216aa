// The total deadline (EXAI_TOTAL_TIMEOUT_MS) in every phase of a call. While a streaming attempt
// is in flight (from its request to its end, first token included), its watchdog watches it (the
// stream's only timer); in a backoff and during a non-streaming request the run watches it itself.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type Emulator, startEmulator } from '../src/emulator/index.js';
import { createClient, createTransport, loadConfig, type Transport } from '../src/index.js';
import { testClient, user } from './helpers/setup.js';

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator();
});
afterAll(async () => {
  await emu.close();
});

const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('the total deadline', () => {
  it('ends a stream whose consumer stopped reading (reading paused, the watchdog with it)', async () => {
    const { client, transport } = testClient(emu, 'glm', {
      env: { EXAI_TOTAL_TIMEOUT_MS: '500', EXAI_IDLE_TIMEOUT_MS: '30000' },
    });
    emu.script([{ type: 'none', words: 20_000 }]);
    const t0 = performance.now();
    const stream = await client.chat.completions.create({ messages: user('q'), stream: true });
    await stream[Symbol.asyncIterator]().next(); // then no more reading: the queue fills, reading pauses
    const result = await stream.finalResult();
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(result.error?.code).toBe('timeout');
    expect(result.error?.message).toMatch(/total/);
    expect(result.metadata.interrupted).toBe(true);
    expect(result.content.length).toBeGreaterThan(0);
    expect(stream.signal.reason).toMatchObject({ name: 'TimeoutError', kind: 'total' });
    transport.close();
  });

  it('comes before a longer first-token timeout', async () => {
    const { client, transport } = testClient(emu, 'glm', {
      env: { EXAI_TOTAL_TIMEOUT_MS: '400', EXAI_FIRST_TOKEN_TIMEOUT_MS: '30000' },
    });
    emu.script([{ type: 'stall', beforeFirstMs: 20_000 }]);
    const t0 = performance.now();
    const stream = await client.chat.completions.create({ messages: user('q'), stream: true });
    await expect(stream.finalResult()).rejects.toMatchObject({ name: 'TimeoutError', kind: 'total' });
    expect(performance.now() - t0).toBeLessThan(5000);
    transport.close();
  });

  it("ends a retry's backoff wait", async () => {
    const { client, transport } = testClient(emu, 'glm', {
      env: { EXAI_TOTAL_TIMEOUT_MS: '400' },
      backoff: { baseMs: 5, maxMs: 60_000 },
    });
    const before = emu.requests.length;
    emu.script([{ type: 'status', status: 429, retryAfter: '30' }]);
    const t0 = performance.now();
    await expect(
      client.chat.completions.create({ messages: user('q'), stream: true }).then((s) => s.finalResult()),
    ).rejects.toMatchObject({ name: 'TimeoutError', kind: 'total' });
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(emu.requests.length - before).toBe(1);
    transport.close();
  });

  it('ends a non-streaming request', async () => {
    const { client, transport } = testClient(emu, 'glm', { env: { EXAI_TOTAL_TIMEOUT_MS: '400' } });
    emu.script([{ type: 'hang' }]);
    const t0 = performance.now();
    await expect(client.chat.completions.create({ messages: user('q') })).rejects.toMatchObject({
      name: 'TimeoutError',
      kind: 'total',
    });
    expect(performance.now() - t0).toBeLessThan(5000);
    transport.close();
  });

  it("waits out the rest of the total time when its own timer fires early (node's may, by up to 1 ms)", async () => {
    // Only the timers are fake: the run's timer fires at once, a minute before performance.now()
    // reaches the deadline. Before, the run's own timer (a non-streaming request, a backoff) ended
    // the call whenever it fired; a streaming attempt's watchdog always looked at the clock.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      const transport: Transport = {
        request: (req) =>
          new Promise((_, reject) => {
            req.signal.addEventListener('abort', () => reject(req.signal.reason), { once: true });
          }),
        close() {},
      };
      const config = loadConfig({
        env: { GLM_API_KEY: 'k', EXAI_TOTAL_TIMEOUT_MS: '60000', EXAI_LOG_LEVEL: 'silent' },
        dotenvDir: false,
      });
      const client = createClient('glm', { config, transport });
      const controller = new AbortController();
      let settled = false;
      const call = client.chat.completions
        .create({ messages: user('q') }, { signal: controller.signal })
        .catch((error: unknown) => error)
        .finally(() => {
          settled = true;
        });
      await vi.advanceTimersByTimeAsync(60_000);
      expect(settled).toBe(false);
      controller.abort();
      expect(await call).toMatchObject({ name: 'AbortError' });
    } finally {
      vi.useRealTimers();
    }
  });

  it('an open stream holds one timer: its watchdog also watches the total deadline', async () => {
    // A server that sends one chunk and then holds the stream open, with no timer of its own.
    const server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        const chunk = {
          id: 'c1',
          object: 'chat.completion.chunk',
          created: 1,
          model: 'glm-4.6',
          choices: [{ index: 0, delta: { content: 'Hi' }, finish_reason: null }],
        };
        res.write(`data: ${JSON.stringify(chunk)}\n\n`);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v4`;
    const transport = createTransport();
    const config = loadConfig({
      env: { GLM_API_KEY: 'k', GLM_BASE_URL: baseURL, EXAI_LOG_LEVEL: 'silent' },
      dotenvDir: false,
    });
    const client = createClient('glm', { config, transport });
    const idle = timers();
    const stream = await client.chat.completions.create({ messages: user('q'), stream: true });
    await stream[Symbol.asyncIterator]().next();
    expect(timers() - idle).toBe(1);
    stream.abort();
    await stream.finalResult();
    transport.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
});
