// Refused bodies: the rest is read and dropped for a bounded time, then the connection is cut; a
// refused body that ends in time leaves a keep-alive connection open for the next request, and a
// client that asked to close gets its answer once its body is in (not a reset while it sends).
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BodyReader, refuseRequest, sendJson } from '../../src/mcp/http-body.js';

const LINGER = 1000;
let server: http.Server;
let port = 0;
const reader = new BodyReader(1024, 4096, LINGER);

beforeAll(async () => {
  server = http.createServer(async (req, res) => {
    // /early: refused before its body is read, as a 401 or a 404 is.
    if (req.url === '/early') {
      return refuseRequest(req, res, () => sendJson(res, 401, { error: 'no' }), LINGER);
    }
    const parsed = await reader.read(req, res, (status, body, headers) =>
      sendJson(res, status, body, headers),
    );
    if (parsed) sendJson(res, 200, { got: parsed.body });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  port = (server.address() as net.AddressInfo).port;
});
afterAll(() => new Promise<void>((done) => server.close(() => done())));

function connect() {
  const socket = net.connect(port, '127.0.0.1');
  let data = '';
  let error = '';
  socket.setEncoding('utf8').on('data', (d: string) => {
    data += d;
  });
  socket.on('error', (e: NodeJS.ErrnoException) => {
    error = e.code ?? e.message;
  });
  let closedAt = 0;
  const closed = new Promise<void>((done) =>
    socket.once('close', () => {
      closedAt = performance.now();
      done();
    }),
  );
  const until = (re: RegExp) =>
    new Promise<void>((done) => {
      const look = () => re.test(data) && done();
      socket.on('data', look);
      look();
    });
  return { socket, closed, until, data: () => data, error: () => error, closedAt: () => closedAt };
}

/** Writes a byte every 100 ms until the socket closes: a body that keeps arriving, slowly. */
function trickle(socket: net.Socket) {
  const timer = setInterval(() => {
    if (!socket.destroyed) socket.write('a');
  }, 100);
  socket.once('close', () => clearInterval(timer));
}

describe('a refused body', () => {
  it('still arriving after the linger: answered at once, the connection cut after the linger', async () => {
    for (const path of ['/', '/early']) {
      const c = connect();
      c.socket.write(`POST ${path} HTTP/1.1\r\nhost: x\r\ncontent-length: 1000000\r\n\r\n`);
      c.socket.write('a'.repeat(2000));
      await c.until(/^HTTP\/1\.1 (413|401) /);
      const answered = performance.now();
      // The body keeps coming: node's keep-alive timeout never fires, only the linger can end it.
      trickle(c.socket);
      await new Promise((r) => setTimeout(r, LINGER / 10));
      expect(c.socket.destroyed).toBe(false);
      await Promise.race([c.closed, new Promise((r) => setTimeout(r, LINGER * 4))]);
      // Before the linger, a refused body's connection was closed with the answer; without its
      // timer, a trickled body kept the connection for as long as it trickled.
      expect(c.socket.destroyed).toBe(true);
      expect(c.closedAt() - answered).toBeGreaterThan(LINGER / 2);
    }
  });

  it('that ends in time: 413, then the same connection answers the next request', async () => {
    const c = connect();
    c.socket.write(`POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 3000\r\n\r\n${'a'.repeat(3000)}`);
    await c.until(/^HTTP\/1\.1 413 /);
    c.socket.write('POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 4\r\n\r\n[1]\n');
    await c.until(/HTTP\/1\.1 200 [\s\S]*\{"got":\[1\]\}/);
    // Past the linger, the connection is still there: the drained request left no timer behind.
    await new Promise((r) => setTimeout(r, LINGER + 200));
    expect(c.socket.destroyed).toBe(false);
    c.socket.destroy();
  });

  it('from a client that asked to close (Connection: close, HTTP/1.0): answered once its body is in', async () => {
    for (const [version, extra] of [
      ['1.1', 'connection: close\r\n'],
      ['1.0', ''],
    ]) {
      const c = connect();
      c.socket.pause();
      const size = 8 * 1024 * 1024;
      c.socket.write(`POST / HTTP/${version}\r\nhost: x\r\n${extra}content-length: ${size}\r\n\r\n`);
      await new Promise<void>((done) => c.socket.write(Buffer.alloc(size, 'a'), () => done()));
      c.socket.resume();
      await c.closed;
      // Before: node closed the connection with the answer while the body was still coming, and
      // the reset destroyed the answer (EPIPE, no status line).
      expect(c.error()).toBe('');
      expect(c.data()).toMatch(/^HTTP\/1\.[01] 413 /);
    }
  });
});
