// Whether the connection a call answers on can take more bytes now. Transports set it (stdio: the
// process's stdout; HTTP: the call's own response, via async context); the progress relay asks it
// before each notification and merges deltas while the answer is no.
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Writable } from 'node:stream';

export interface Writability {
  /** False while the connection's buffer is above its high-water mark. */
  canWrite(): boolean;
}

/** Bytes a connection may hold beyond its high-water mark before progress waits. */
const SLACK_BYTES = 64 * 1024;

/** Writability of a Node stream (a ServerResponse, process.stdout). */
export function streamWritability(stream: Writable): Writability {
  return {
    canWrite: () => !stream.destroyed && stream.writableLength <= stream.writableHighWaterMark + SLACK_BYTES,
  };
}

const current = new AsyncLocalStorage<Writability>();

/** Runs `fn` (a request's whole handling) with `w` as the writability of everything it starts. */
export function withWritability<T>(w: Writability, fn: () => T): T {
  return current.run(w, fn);
}

/** The writability of the connection this code serves, if a transport set one. */
export function currentWritability(): Writability | undefined {
  return current.getStore();
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
 * Resolves once `w` can take bytes, or `signal` aborts (the connection was cut): the final update
 * and the result are serialised only when the client reads, never queued behind a full buffer.
 */
export function whenWritable(w: Writability, signal: AbortSignal, pollMs: number): Promise<void> {
  if (w.canWrite() || signal.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const timer = setInterval(
      () => {
        if (w.canWrite() || signal.aborted) done();
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
