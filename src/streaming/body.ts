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

/** What a BodyReader hands each network read to. */
export interface BodySink {
  /**
   * Takes one buffer; returns false to stop early, or 'yield' to let the consumer run before the
   * rest of this network read is handed on.
   */
  onRead(buf: Buffer): boolean | 'yield';
  /** A promise while the consumer is behind: reading pauses (TCP pushes back) until it settles. */
  drain(): Promise<void> | undefined;
  /** Once: the body ended or the sink stopped (no error), or the connection broke. */
  onEnd(error?: unknown): void;
}

/**
 * Reads one body until it ends, handing each read to its sink. One object per body: its four
 * listeners share one context, and nothing else is allocated per read.
 *
 * Flowing mode ('data'): a token stream arrives a few events per network read, and each is handed
 * on at once; the 'readable'/read() alternative costs an extra tick per read (about 1.5 us per
 * chunk at 200 paced streams) and only wins on bulk transfers.
 */
export class BodyReader {
  private settled = false;
  /** The consumer is behind: a pause is pending or in force. */
  private held = false;

  constructor(
    readonly body: IncomingMessage,
    private readonly sink: BodySink,
  ) {}

  /** Starts reading; the sink's `onEnd` says when and how it is over. */
  start(): void {
    const { body } = this;
    body.on('data', this.onData);
    body.once('end', this.onEnd);
    body.once('error', this.onError);
    body.once('close', this.onClose);
  }

  private finish(error?: unknown): void {
    if (this.settled) return;
    this.settled = true;
    const { body } = this;
    body.off('data', this.onData);
    body.off('end', this.onEnd);
    body.off('error', this.onError);
    body.off('close', this.onClose);
    this.sink.onEnd(error);
  }

  /** Hands one buffer on; a false result means the read is over (stopped early or failed). */
  private take(buf: Buffer): boolean | 'yield' {
    try {
      const more = this.sink.onRead(buf);
      if (!more) this.finish();
      return more;
    } catch (error) {
      // Thrown inside an event handler it would be uncaught: end the read with it instead.
      this.finish(error);
      return false;
    }
  }

  private readonly onData = (buf: Buffer): void => {
    if (this.settled) return;
    const more = this.take(buf);
    if (!more) return;
    if (more === 'yield' && !this.held) {
      // One network read often carries a burst of HTTP chunks. Paused, node buffers the rest of
      // it unparsed; the resume (a tick after the consumer's promise jobs, before any other I/O)
      // hands it on in order, ahead of the body's end or failure. A complete body is resumed
      // even for a consumer that is behind, as below, so that its end is not held back.
      this.body.pause();
      void Promise.resolve(this).then(resumeAfterYield);
    }
    if (this.held) return;
    const waiting = this.sink.drain();
    if (!waiting) return;
    this.held = true;
    // Paused once this network read has been parsed: if it ended the body, nothing is left to
    // hold back, and pausing would only hold back 'end' (and with it the run's result) for as
    // long as the consumer does not read.
    process.nextTick(pauseIfHeld, this);
    waiting.then(
      () => {
        this.held = false;
        if (!this.settled) this.body.resume();
      },
      (error: unknown) => this.finish(error),
    );
  };

  private readonly onEnd = (): void => this.finish();

  /**
   * What node still buffers from while reading was paused was received: it is handed on before
   * the failure, so no token that arrived is lost. (A destroyed body's read() emits no 'data'.)
   */
  private takeRest(): void {
    this.body.off('data', this.onData);
    while (!this.settled) {
      const buf: Buffer | null = this.body.read();
      if (buf === null) break;
      this.take(buf);
    }
  }

  private readonly onError = (error: unknown): void => {
    this.takeRest();
    this.finish(error);
  };

  private readonly onClose = (): void => {
    if (this.body.readableEnded) return;
    this.takeRest();
    this.finish(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
  };

  /** @internal */
  static resumeAfterYield(r: BodyReader): void {
    if (!r.settled && (!r.held || r.body.complete)) r.body.resume();
  }

  /** @internal */
  static pauseIfHeld(r: BodyReader): void {
    if (r.held && !r.settled && !r.body.complete) r.body.pause();
  }
}

const resumeAfterYield = BodyReader.resumeAfterYield;
const pauseIfHeld = BodyReader.pauseIfHeld;

/**
 * The promise form of BodyReader: resolves when the body ended or `onRead` stopped it; rejects when
 * the connection breaks.
 */
export function readBody(
  body: IncomingMessage,
  onRead: (buf: Buffer) => boolean | 'yield',
  drain: () => Promise<void> | undefined,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onEnd = (error?: unknown) => (error === undefined ? resolve() : reject(error));
    new BodyReader(body, { onRead, drain, onEnd }).start();
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
