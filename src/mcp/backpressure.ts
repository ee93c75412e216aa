// Whether the connection a call answers on can take more bytes now. The HTTP transport registers
// each call's response; the progress relay asks it before each notification and merges deltas
// while the answer is no. (stdio needs none: Node writes to a pipe synchronously on Linux.)
import type { Writable } from 'node:stream';

export interface Writability {
  /** False while the connection's buffer is above its high-water mark, and once it closed. */
  canWrite(): boolean;
  /** The connection closed (the client went away or was cut): nothing written reaches anyone. */
  closed(): boolean;
}

/** Bytes a connection may hold beyond its high-water mark before progress waits. */
const SLACK_BYTES = 64 * 1024;

/** Writability of a Node stream (a ServerResponse, process.stdout). */
export function streamWritability(stream: Writable): Writability {
  let closed = false;
  stream.once('close', () => {
    closed = true;
  });
  const isClosed = () => closed || stream.destroyed;
  return {
    canWrite: () => !isClosed() && stream.writableLength <= stream.writableHighWaterMark + SLACK_BYTES,
    closed: isClosed,
  };
}

/**
 * The request header that names a call's connection. The HTTP transport sets it on every request
 * it hands to the SDK (overwriting whatever a client sent); the tool reads it from the request the
 * SDK passes along. A header, not async context: AsyncLocalStorage slows every promise on Node 20.
 */
export const CONNECTION_HEADER = 'x-exai-connection';

const connections = new Map<string, Writability>();
let nextConnection = 0;

/** Registers a connection's writability; returns its id (for the header) and a release. */
export function registerConnection(w: Writability): { id: string; release(): void } {
  const id = `c${++nextConnection}`;
  connections.set(id, w);
  return { id, release: () => connections.delete(id) };
}

/** The writability of the connection a request arrived on, if a transport registered one. */
export function writabilityOf(request: { headers: { get(name: string): string | null } } | undefined) {
  const id = request?.headers.get(CONNECTION_HEADER);
  return id ? connections.get(id) : undefined;
}

/**
 * Cuts connections that stay unwritable (their client stopped reading) for longer than `limitMs`:
 * the cut closes the response, which cancels its call and frees what was queued for it.
 */
export class UnwritableWatch {
  private readonly blockedSince = new Map<Writable, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly limitMs: number,
    private readonly onCut: (stream: Writable, blockedMs: number) => void,
  ) {}

  watch(stream: Writable): void {
    this.blockedSince.set(stream, 0);
    stream.once('close', () => {
      this.blockedSince.delete(stream);
      if (this.blockedSince.size === 0) this.stop();
    });
    if (!this.timer) {
      this.timer = setInterval(() => this.check(), Math.max(10, Math.min(1000, this.limitMs / 4)));
      this.timer.unref();
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private check(): void {
    const now = performance.now();
    for (const [stream, since] of this.blockedSince) {
      if (!stream.writableNeedDrain) this.blockedSince.set(stream, 0);
      else if (since === 0) this.blockedSince.set(stream, now);
      else if (now - since > this.limitMs) {
        this.blockedSince.delete(stream);
        this.onCut(stream, now - since);
        stream.destroy();
      }
    }
  }
}

/**
 * Resolves once `w` can take bytes, has closed, or `signal` aborts: the final update and the result
 * are serialised only when the client reads, never queued behind a full buffer. (A closed
 * connection ends the wait: polling it would hold the call, and its answer, forever.)
 */
export function whenWritable(w: Writability, signal: AbortSignal, pollMs: number): Promise<void> {
  const ready = () => w.canWrite() || w.closed() || signal.aborted;
  if (ready()) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setInterval(
      () => {
        if (ready()) done();
      },
      Math.max(10, pollMs),
    );
    const done = () => {
      clearInterval(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    signal.addEventListener('abort', done, { once: true });
  });
}
