// Reading an upstream HTTP response body: whole (bounded), or read by read with backpressure.
import type { IncomingMessage } from 'node:http';

export async function readText(body: IncomingMessage, limit: number): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const buf of body as AsyncIterable<Buffer>) {
    parts.push(buf);
    size += buf.length;
    if (size > limit) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(parts).toString('utf8');
}

/**
 * Reads `body` until it ends. `onRead` takes each buffer and returns false to stop early, or
 * 'yield' to let the consumer run before the rest of this network read is handed on; `drain`
 * returns a promise while the consumer is behind, and reading pauses (TCP pushes back) until it
 * settles. Rejects when the connection breaks.
 *
 * Flowing mode ('data'): a token stream arrives a few events per network read, and each is handed
 * on at once; the 'readable'/read() alternative costs an extra tick per read (about 1.5 us per
 * chunk at 200 paced streams) and only wins on bulk transfers.
 */
export function readBody(
  body: IncomingMessage,
  onRead: (buf: Buffer) => boolean | 'yield',
  drain: () => Promise<void> | undefined,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    /** The consumer is behind: a pause is pending or in force. */
    let held = false;
    const finish = (error?: unknown) => {
      if (settled) return;
      settled = true;
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onError);
      body.off('close', onClose);
      if (error === undefined) resolve();
      else reject(error);
    };
    /** Hands one buffer on; a false result means the read is over (stopped early or failed). */
    const take = (buf: Buffer): boolean | 'yield' => {
      try {
        const more = onRead(buf);
        if (!more) finish();
        return more;
      } catch (error) {
        // Thrown inside an event handler it would be uncaught: end the read with it instead.
        finish(error);
        return false;
      }
    };
    const onData = (buf: Buffer) => {
      if (settled) return;
      const more = take(buf);
      if (!more) return;
      if (more === 'yield' && !held) {
        // One network read often carries a burst of HTTP chunks. Paused, node buffers the rest of
        // it unparsed; the resume (a tick after the consumer's promise jobs, before any other I/O)
        // hands it on in order, ahead of the body's end or failure. A complete body is resumed
        // even for a consumer that is behind, as below, so that its end is not held back.
        body.pause();
        void Promise.resolve().then(() => {
          if (!settled && (!held || body.complete)) body.resume();
        });
      }
      if (held) return;
      const waiting = drain();
      if (!waiting) return;
      held = true;
      // Paused once this network read has been parsed: if it ended the body, nothing is left to
      // hold back, and pausing would only hold back 'end' (and with it the run's result) for as
      // long as the consumer does not read.
      process.nextTick(() => {
        if (held && !settled && !body.complete) body.pause();
      });
      waiting.then(() => {
        held = false;
        if (!settled) body.resume();
      }, finish);
    };
    const onEnd = () => finish();
    // What node still buffers from while reading was paused was received: it is handed on before
    // the failure, so no token that arrived is lost. (A destroyed body's read() emits no 'data'.)
    const takeRest = () => {
      body.off('data', onData);
      while (!settled) {
        const buf: Buffer | null = body.read();
        if (buf === null) break;
        take(buf);
      }
    };
    const onError = (error: unknown) => {
      takeRest();
      finish(error);
    };
    const onClose = () => {
      if (body.readableEnded) return;
      takeRest();
      finish(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
    };
    body.on('data', onData);
    body.once('end', onEnd);
    body.once('error', onError);
    body.once('close', onClose);
  });
}

/** Waits for the consumer to catch up; an abort (caller, deadline) ends the wait at once. */
export function untilDrainedOrAborted(whenDrained: () => Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    whenDrained().then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
  });
}
