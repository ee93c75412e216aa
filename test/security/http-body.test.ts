// The body reader's linger: a refused body is read and dropped for a bounded time, then its
// connection is cut; a refused body that ends in time leaves the connection open for the next one.
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BodyReader, sendJson } from '../../src/mcp/http-body.js';

const LINGER = 1000;
let server: http.Server;
let port = 0;
const reader = new BodyReader(1024, 4096, LINGER);

beforeAll(async () => {
  server = http.createServer(async (req, res) => {
    const parsed = await reader.read(req, (status, body, headers) => sendJson(res, status, body, headers));
    if (parsed) sendJson(res, 200, { got: parsed.body });
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  port = (server.address() as net.AddressInfo).port;
});
afterAll(() => new Promise<void>((done) => server.close(() => done())));

function connect() {
  const socket = net.connect(port, '127.0.0.1');
  let data = '';
  socket.setEncoding('utf8').on('data', (d: string) => {
    data += d;
  });
  socket.on('error', () => {});
  const closed = new Promise<void>((done) => socket.once('close', () => done()));
  const until = (re: RegExp) =>
    new Promise<void>((done) => {
      const look = () => re.test(data) && done();
      socket.on('data', look);
      look();
    });
  return { socket, closed, until, data: () => data };
}

describe('a refused body', () => {
  it('still arriving after the linger: 413 at once, the connection cut after the linger, not before', async () => {
    const c = connect();
    c.socket.write('POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 1000000\r\n\r\n');
    c.socket.write('a'.repeat(2000));
    await c.until(/^HTTP\/1\.1 413 [\s\S]*larger than 1024 bytes/);
    // The client keeps sending a little; the connection stays open while the linger runs.
    await new Promise((r) => setTimeout(r, LINGER / 10));
    expect(c.socket.destroyed).toBe(false);
    c.socket.write('a'.repeat(100));
    // Then it is cut, though the body has not ended (before the linger there was no such bound
    // to test: the connection was closed with the answer).
    await c.closed;
    expect(c.data()).toMatch(/^HTTP\/1\.1 413 /);
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
});
