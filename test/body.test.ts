// readBody against a real socket: a burst of HTTP chunks that arrives in one network read, and a
// consumer that must get its turn after the first token of the burst.
import { EventEmitter } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readBody } from '../src/streaming/body.js';

type Ending = 'end' | 'cut';
let server: http.Server;
let url: string;
let next: { parts: string[]; ending: Ending } = { parts: [], ending: 'end' };

beforeAll(async () => {
  server = http.createServer((_req, res) => {
    const { parts, ending } = next;
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.flushHeaders();
    // Corked: every part is its own HTTP chunk, and all of them leave in one write.
    setTimeout(() => {
      const socket = res.socket;
      socket?.cork();
      for (const p of parts) res.write(p);
      if (ending === 'end') res.end();
      else socket?.end(); // the body is never finished: the connection is cut after the burst
      socket?.uncork();
    }, 10);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

function get(parts: string[], ending: Ending): Promise<http.IncomingMessage> {
  next = { parts, ending };
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false }, resolve);
    req.on('error', reject);
  });
}

const parts = ['a', 'b', 'c', 'd', 'e'];

/** Reads a burst; at the first read a consumer, three promise hops away, notes that it ran. */
async function readBurst(ending: Ending, yieldAt: string | undefined) {
  const body = await get(parts, ending);
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
      return s === yieldAt ? 'yield' : true;
    },
    () => undefined,
  );
  const outcome = await read.then(
    () => 'ended',
    (e: NodeJS.ErrnoException) => e.code,
  );
  return { order, outcome };
}

describe('readBody', () => {
  it('reads every HTTP chunk of a burst, in order, before it resolves', async () => {
    const { order, outcome } = await readBurst('end', undefined);
    expect(outcome).toBe('ended');
    expect(order.filter((s) => s !== 'consumer')).toEqual(parts);
  });

  it("after a 'yield' the consumer runs before the rest of the burst is read", async () => {
    const { order, outcome } = await readBurst('end', 'a');
    expect(outcome).toBe('ended');
    expect(order).toEqual(['a', 'consumer', 'b', 'c', 'd', 'e']);
  });

  it('a connection cut right after the burst still hands over every held-back read, then fails', async () => {
    const { order, outcome } = await readBurst('cut', 'a');
    expect(outcome).toBe('ECONNRESET');
    expect(order).toEqual(['a', 'consumer', 'b', 'c', 'd', 'e']);
  });

  it('an error in the same turn as the burst waits for the held-back reads', async () => {
    // A stand-in body whose burst and failure all happen in one turn, as when the connection
    // breaks in the network read that carried them.
    const body = Object.assign(new EventEmitter(), {
      complete: false,
      readableEnded: false,
      pause() {},
      resume() {},
    });
    const order: string[] = [];
    const read = readBody(
      body as unknown as http.IncomingMessage,
      (buf) => {
        order.push(buf.toString());
        return order.length === 1 ? 'yield' : true;
      },
      () => undefined,
    );
    for (const p of ['a', 'b', 'c']) body.emit('data', Buffer.from(p));
    body.emit('error', Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
    body.emit('close');
    expect(order).toEqual(['a']);
    await expect(read).rejects.toMatchObject({ code: 'ECONNRESET' });
    expect(order).toEqual(['a', 'b', 'c']);
  });

  it('without a yield the burst is read in one go (no extra turn per read)', async () => {
    const { order } = await readBurst('end', undefined);
    expect(order.indexOf('consumer')).toBe(parts.length);
  });
});
