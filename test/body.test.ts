// readBody against a real socket: a burst of HTTP chunks that arrives in one network read, a
// consumer that gets its turn after the first token, and a connection that breaks while reading
// is paused.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBody } from '../src/streaming/body.js';

/** What the server does: write parts at given delays, then end the body or cut the connection. */
interface Script {
  /** `end`: the body's end leaves in the same write as these parts. */
  writes: Array<{ atMs: number; parts: string[]; end?: boolean }>;
  ending?: { atMs: number; how: 'end' | 'cut' };
}
let server: http.Server;
let url: string;
let script: Script;

beforeAll(async () => {
  server = http.createServer((_req, res) => {
    const { writes, ending } = script;
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.flushHeaders();
    for (const { atMs, parts, end } of writes) {
      // Corked: every part is its own HTTP chunk, and all of them leave in one write.
      setTimeout(() => {
        res.socket?.cork();
        for (const p of parts) res.write(p);
        if (end) res.end();
        res.socket?.uncork();
      }, atMs);
    }
    if (ending)
      setTimeout(() => {
        if (ending.how === 'end') res.end();
        else res.socket?.destroy(); // the body is never finished
      }, ending.atMs);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

function get(s: Script): Promise<http.IncomingMessage> {
  script = s;
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false }, resolve);
    req.on('error', reject);
  });
}

const outcome = (read: Promise<void>) =>
  read.then(
    () => 'ended',
    (e: NodeJS.ErrnoException) => e.code ?? e.message,
  );

const burst = ['a', 'b', 'c', 'd', 'e'];

/** Reads one burst; at 'a' a consumer three promise jobs away notes that it ran. */
async function readBurst(yieldAtFirst: boolean) {
  const body = await get({ writes: [{ atMs: 10, parts: burst, end: true }] });
  const order: string[] = [];
  const read = readBody(
    body,
    (buf) => {
      const s = buf.toString();
      order.push(s);
      if (s !== 'a') return true;
      Promise.resolve()
        .then(() => undefined)
        .then(() => undefined)
        .then(() => order.push('consumer'));
      return yieldAtFirst ? 'yield' : true;
    },
    () => undefined,
  );
  return { order, outcome: await outcome(read) };
}

describe('readBody', () => {
  it('without a yield, a burst is read in one go, before any consumer runs', async () => {
    const { order, outcome } = await readBurst(false);
    expect(outcome).toBe('ended');
    expect(order).toEqual([...burst, 'consumer']);
  });

  it("after a 'yield' the consumer runs before the rest of the burst is read, then all of it is", async () => {
    const { order, outcome } = await readBurst(true);
    expect(outcome).toBe('ended');
    expect(order).toEqual(['a', 'consumer', 'b', 'c', 'd', 'e']);
  });

  it('a consumer that is behind at the first token does not hold back the end of a complete body', async () => {
    const body = await get({ writes: [{ atMs: 10, parts: burst, end: true }] });
    const order: string[] = [];
    const read = readBody(
      body,
      (buf) => {
        order.push(buf.toString());
        return order.length === 1 ? 'yield' : true;
      },
      () => new Promise<void>(() => {}), // the consumer never catches up
    );
    expect(await outcome(read)).toBe('ended');
    expect(order).toEqual(burst);
  });

  it('a body destroyed while the rest of its burst is held back still hands that rest over', async () => {
    const body = await get({ writes: [{ atMs: 10, parts: burst }], ending: { atMs: 500, how: 'end' } });
    const order: string[] = [];
    const read = readBody(
      body,
      (buf) => {
        order.push(buf.toString());
        if (order.length > 1) return true;
        // Closed from our side (as the grace timer after [DONE] does) before reading resumes.
        void Promise.resolve().then(() => body.destroy());
        return 'yield';
      },
      () => undefined,
    );
    expect(await outcome(read)).toBe('ECONNRESET');
    expect(order).toEqual(burst);
  });

  it('a connection that breaks while reading is paused still hands over what arrived, then fails', async () => {
    const body = await get({
      writes: [
        { atMs: 10, parts: ['a'] },
        { atMs: 60, parts: ['b', 'c'] },
      ],
      ending: { atMs: 110, how: 'cut' },
    });
    const order: string[] = [];
    // The consumer falls behind at the first read and never catches up: reading pauses.
    const read = readBody(
      body,
      (buf) => {
        order.push(buf.toString());
        return true;
      },
      () => new Promise<void>(() => {}),
    );
    expect(await outcome(read)).toBe('ECONNRESET');
    expect(order.join('')).toBe('abc');
  });
});
