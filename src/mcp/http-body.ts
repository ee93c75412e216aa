// Reading POST bodies within bounds: each at most MAX_MESSAGE_BYTES, all of them together at most a
// global budget (a flood of large bodies gets 503 at once instead of memory), nesting bounded.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { jsonTooDeep, MAX_JSON_DEPTH, rpcError } from './limits.js';

export type Refuse = (status: number, body: object, headers?: Record<string, string>) => void;

export class BodyReader {
  private buffered = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly budgetBytes: number,
  ) {}

  /** Bytes of bodies being read right now, in all. */
  get inFlight(): number {
    return this.buffered;
  }

  /** The parsed JSON body, or undefined once `refuse` has answered (too large, busy, not JSON). */
  read(req: IncomingMessage, res: ServerResponse, refuse: Refuse): Promise<{ body: unknown } | undefined> {
    const tooLarge = () =>
      refuse(413, rpcError(null, -32000, `request body larger than ${this.maxBytes} bytes`), {
        connection: 'close',
      });
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > this.maxBytes) {
      tooLarge();
      this.discard(req, res);
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
        if (size > this.maxBytes) tooLarge();
        else if (this.buffered > this.budgetBytes) {
          refuse(
            503,
            rpcError(null, -32000, 'too many request bodies being received at once; retry shortly'),
            {
              'retry-after': '1',
              connection: 'close',
            },
          );
        } else {
          parts.push(part);
          return;
        }
        stop();
        this.discard(req, res);
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

  /**
   * Drops the rest of a refused body without buffering it. The answer says `connection: close`, so
   * Node ends the socket once the answer is flushed (destroying it here could drop the answer).
   */
  private discard(req: IncomingMessage, _res: ServerResponse): void {
    req.resume();
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
