// The run's life at its edges: a sink that throws at the end, a run started twice, a caller's
// transport that ignores the close (the total deadline still ends what it can).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../src/emulator/index.js';
import { ChatStream, createTransport, type Transport } from '../src/index.js';
import { testClient, user } from './helpers/setup.js';

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator();
});
afterAll(async () => {
  await emu.close();
});

describe('the run at its edges', () => {
  it("a sink that throws as the run ends is the sink's failure, not a failed request to retry", async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    const onEnd = ChatStream.prototype.onEnd;
    let ends = 0;
    ChatStream.prototype.onEnd = function (this: ChatStream, settled) {
      ends++;
      onEnd.call(this, settled);
      throw new Error('sink bug');
    };
    const { client, transport } = testClient(emu, 'glm');
    const before = emu.requests.length;
    try {
      const stream = await client.chat.completions.create({ messages: user('q'), stream: true });
      const result = await stream.finalResult();
      await new Promise((r) => setTimeout(r, 300));
      expect(result.content.length).toBeGreaterThan(0);
      expect(emu.requests.length - before).toBe(1);
      expect(ends).toBe(1);
      expect(unhandled.map((e) => (e as Error).message)).toEqual(['sink bug']);
    } finally {
      ChatStream.prototype.onEnd = onEnd;
      process.off('unhandledRejection', onUnhandled);
      transport.close();
    }
  });

  it("a caller's transport that ignores the close: the total deadline still aborts stream.signal after a first-token timeout", async () => {
    const real = createTransport();
    // Neither the handle nor a signal that ever aborts: nothing can close this request.
    const deaf: Transport = {
      request: (r) =>
        real.request({ url: r.url, headers: r.headers, body: r.body, signal: new AbortController().signal }),
      close: () => real.close(),
    };
    const { client } = testClient(emu, 'glm', {
      transport: deaf,
      env: { EXAI_FIRST_TOKEN_TIMEOUT_MS: '300', EXAI_TOTAL_TIMEOUT_MS: '1000' },
    });
    emu.script([{ type: 'stall', beforeFirstMs: 3000 }]);
    const t0 = performance.now();
    const stream = await client.chat.completions.create({ messages: user('q'), stream: true });
    let abortedAt = -1;
    stream.signal.addEventListener('abort', () => {
      abortedAt = performance.now() - t0;
    });
    await stream.finalResult().catch(() => undefined);
    expect(abortedAt).toBeGreaterThan(900);
    expect(abortedAt).toBeLessThan(2500);
    expect(stream.signal.reason).toMatchObject({ name: 'TimeoutError', kind: 'total' });
    deaf.close();
  }, 10_000);
});
