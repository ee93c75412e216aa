// A tiny local server that replays one recorded SSE response byte for byte, whole, cut at random
// points, or one byte per write, to any POST .../chat/completions. It counts what it was asked.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Framing = 'whole' | 'random' | 'bytes';

export interface Replay {
  /** The OpenAI-compatible base URL (`${url}/v1`). */
  readonly baseURL: string;
  /** Bodies of the chat requests received, in order. */
  readonly requests: Array<Record<string, unknown>>;
  /** The next responses: the bytes to send and how to cut them. */
  play(bytes: Uint8Array, framing: Framing, seed?: number): void;
  close(): Promise<void>;
}

/** mulberry32: reproducible cut points for a given seed. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The pieces `bytes` is written in. */
export function pieces(bytes: Uint8Array, framing: Framing, seed = 1): Uint8Array[] {
  if (framing === 'whole') return [bytes];
  if (framing === 'bytes') return Array.from(bytes, (_, i) => bytes.subarray(i, i + 1));
  const next = rng(seed);
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; ) {
    const size = 1 + Math.floor(next() * 40);
    out.push(bytes.subarray(at, at + size));
    at += size;
  }
  return out;
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

export async function startReplay(): Promise<Replay> {
  let current: { bytes: Uint8Array; framing: Framing; seed: number } | undefined;
  const requests: Array<Record<string, unknown>> = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (b: Buffer) => chunks.push(b));
    req.on('end', async () => {
      if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions') || !current) {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end('{"error":{"message":"not found"}}');
        return;
      }
      requests.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>);
      res.socket?.setNoDelay(true);
      res.writeHead(200, { 'content-type': 'text/event-stream;charset=UTF-8', 'x-request-id': 'replay-1' });
      res.flushHeaders();
      // Each piece in its own turn of the event loop, so the client reads them apart.
      for (const piece of pieces(current.bytes, current.framing, current.seed)) {
        if (res.destroyed) return;
        res.write(piece);
        if (current.framing !== 'whole') await turn();
      }
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    play(bytes, framing, seed = 1) {
      current = { bytes, framing, seed };
      requests.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
