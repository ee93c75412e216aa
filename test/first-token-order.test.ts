// The first token's way out: a stream's request is written to its (reused) socket before the
// attempt arms its watchdog's timer, so the timer's cost is not on the way to the provider.
import net from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../src/emulator/index.js';
import { Watchdog } from '../src/streaming/watchdog.js';
import { testClient, user } from './helpers/setup.js';

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator();
});
afterAll(async () => {
  await emu.close();
});

it('writes the request before it arms the first-token timer', async () => {
  const events: string[] = [];
  const realSetTimeout = globalThis.setTimeout;
  const realWrite = net.Socket.prototype.write;
  globalThis.setTimeout = ((fn: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    if (fn === Watchdog.check) events.push('timer');
    return realSetTimeout(fn, ms, ...args);
  }) as typeof setTimeout;
  net.Socket.prototype.write = function (this: net.Socket, data: unknown, ...rest: unknown[]) {
    if (String(data).startsWith('POST ')) events.push('request');
    return (realWrite as (...a: unknown[]) => boolean).call(this, data, ...rest);
  } as typeof net.Socket.prototype.write;
  const { client, transport } = testClient(emu, 'glm');
  try {
    const orders: string[][] = [];
    for (let i = 0; i < 3; i++) {
      events.length = 0;
      const stream = await client.chat.completions.create({ messages: user(`order ${i}`), stream: true });
      await stream.finalResult();
      orders.push([...events]);
    }
    // The first request opens its connection (the write waits for it); the others reuse it.
    expect(orders[0]).toContain('timer');
    expect(orders.slice(1)).toEqual([
      ['request', 'timer'],
      ['request', 'timer'],
    ]);
  } finally {
    globalThis.setTimeout = realSetTimeout;
    net.Socket.prototype.write = realWrite;
    transport.close();
  }
});
