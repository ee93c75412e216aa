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
