// Reading POST bodies within bounds: each at most MAX_MESSAGE_BYTES, all of them together at most a
// global budget (a flood of large bodies gets 503 at once instead of memory), nesting bounded.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { jsonTooDeep, MAX_JSON_DEPTH, rpcError } from './limits.js';

export type Refuse = (status: number, body: object, headers?: Record<string, string>) => void;

/** How long the rest of a refused body is still read, and dropped, before its connection is cut. */
export const LINGER_MS = 10_000;

export class BodyReader {
  private buffered = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly budgetBytes: number,
    private readonly lingerMs = LINGER_MS,
  ) {}

  /** Bytes of bodies being read right now, in all. */
  get inFlight(): number {
    return this.buffered;
  }

  /** The request's content-length is over the limit: it is refused before its body is read. */
  declaresTooMuch(req: IncomingMessage): boolean {
    const declared = Number(req.headers['content-length']);
    return Number.isFinite(declared) && declared > this.maxBytes;
  }

  /** The parsed JSON body, or undefined once `refuse` has answered (too large, busy, not JSON). */
  read(req: IncomingMessage, res: ServerResponse, refuse: Refuse): Promise<{ body: unknown } | undefined> {
    const tooLarge = () =>
      refuse(413, rpcError(null, -32000, `request body larger than ${this.maxBytes} bytes`));
    if (this.declaresTooMuch(req)) {
      refuseRequest(req, res, tooLarge, this.lingerMs);
      return Promise.resolve(undefined);
    }
    return new Promise((resolve) => {
      const parts: Buffer[] = [];
      let size = 0;
      const stop = () => {
        this.buffered -= size;
        parts.length = 0;
        req.off('data', onData).off('end', onEnd).off('error', onGone).off('close', onGone);
      };
      const onData = (part: Buffer) => {
        size += part.length;
        this.buffered += part.length;
        let answer: () => void;
        if (size > this.maxBytes) answer = tooLarge;
        else if (this.buffered > this.budgetBytes) {
          answer = () =>
            refuse(
              503,
              rpcError(null, -32000, 'too many request bodies being received at once; retry shortly'),
              { 'retry-after': '1' },
            );
        } else {
          parts.push(part);
          return;
        }
        stop();
        refuseRequest(req, res, answer, this.lingerMs);
        resolve(undefined);
      };
      const onEnd = () => {
        const text = Buffer.concat(parts).toString('utf8');
        stop();
        resolve(this.parse(text, refuse));
      };
      const onGone = () => {
        stop();
        resolve(undefined);
      };
      req.on('data', onData).on('end', onEnd).on('error', onGone).on('close', onGone);
    });
  }

  private parse(text: string, refuse: Refuse): { body: unknown } | undefined {
    if (jsonTooDeep(text)) {
      refuse(
        400,
        rpcError(null, -32600, `Invalid Request: JSON nested deeper than ${MAX_JSON_DEPTH} levels`),
      );
      return undefined;
    }
    try {
      return { body: JSON.parse(text) };
    } catch {
      refuse(400, rpcError(null, -32700, 'Parse error'));
      return undefined;
    }
  }
}

/**
 * Answers a refused request (`answer` writes the response) and drops the rest of its body unread.
 * Closing a connection while its client is still sending makes the kernel answer those bytes with
 * a reset, and a reset destroys the answer if the client has not read it yet: a client busy
 * sending would see a broken pipe instead of the 413 or the 503 with `retry-after`. So:
 * - a connection Node keeps (keep-alive) is answered at once and kept while the rest is dropped;
 * - one Node closes after the answer (`Connection: close`, HTTP/1.0, or `closes`) is answered once
 *   the body has been read;
 * and a body still arriving `lingerMs` after the refusal has its connection cut (answered first).
 */
export function refuseRequest(
  req: IncomingMessage,
  res: ServerResponse,
  answer: () => void,
  lingerMs = LINGER_MS,
  closes = false,
): void {
  let answered = false;
  const once = () => {
    if (answered) return;
    answered = true;
    answer();
  };
  req.resume();
  if (req.complete) {
    once();
    return;
  }
  const keeps = res.shouldKeepAlive && !closes;
  if (keeps) once();
  const cut = setTimeout(() => {
    if (keeps) req.socket.destroy();
    else {
      // Node closes the connection once this answer is written.
      once();
    }
  }, lingerMs).unref();
  req.once('end', () => {
    clearTimeout(cut);
    once();
  });
  req.once('close', () => clearTimeout(cut));
}

/** Writes a JSON answer (a JSON-RPC error) with `status`. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: object,
  headers: Record<string, string> = {},
) {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'cache-control': 'no-store',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}
