// The stdio wire: newline-delimited JSON-RPC on stdin/stdout, bounded. A line over the limit is
// skipped as it streams in (never buffered whole) and answered with an error, as is a malformed
// line; the server keeps serving.
import type { Readable, Writable } from 'node:stream';
import {
  INVALID_REQUEST,
  type JSONRPCMessage,
  PARSE_ERROR,
  parseJSONRPCMessage,
  type Transport,
} from '@modelcontextprotocol/server';
import { type CallLimiter, idOf, isChatCall, jsonTooDeep, MAX_JSON_DEPTH, rpcError } from './limits.js';

export interface StdioWireOptions {
  maxLineBytes: number;
  /** Calls running at once; a `chat` call beyond it is answered with a retryable error. */
  limiter?: CallLimiter;
  /** Calls running upstream now (counted against the limit too). */
  running?: () => number;
}

type Id = string | number;

export class StdioWire implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: Transport['onmessage'];
  private parts: Buffer[] = [];
  private size = 0;
  private skipping = false;
  private closed = false;
  /** Lines waiting for this turn's write, and the promise their senders wait on. */
  private queued: string[] = [];
  private taken: Promise<void> = Promise.resolve();
  private written: () => void = () => {};
  /** Admitted chat calls by request id, released by their response or their cancellation. */
  private readonly admitted = new Map<Id, () => void>();

  constructor(
    private readonly input: Readable,
    private readonly output: Writable,
    private readonly o: StdioWireOptions,
  ) {}

  async start(): Promise<void> {
    this.input.on('data', this.onData);
    this.input.on('end', this.onEnd);
    this.input.on('close', this.onEnd);
    this.input.on('error', this.onInputError);
    this.output.on('error', this.onOutputError);
    // A process that exits within this turn (a second Ctrl-C, a fatal error) still writes what
    // was sent before: writes to a pipe or file are synchronous on exit.
    process.on('exit', this.onExit);
  }

  /**
   * Queues one message; the queue goes out as one write at the end of this turn of the event loop.
   * A pipe to the host is written synchronously on Linux, a system call per write: twenty calls'
   * progress notifications that arrive in one turn cost one call, not twenty. Resolves once the
   * write was taken (or the host stopped reading our stdout).
   */
  send(message: JSONRPCMessage): Promise<void> {
    if (this.closed) return Promise.resolve();
    const id = idOf(message);
    if (id !== null && ('result' in message || 'error' in message)) this.release(id);
    // A host that closed our stdout gets nothing more; the error handler closes the wire.
    if (this.output.destroyed || this.output.writableEnded) return Promise.resolve();
    // Redaction happened before: every server instance redacts what it sends (redaction.ts).
    this.queued.push(`${JSON.stringify(message)}\n`);
    if (this.queued.length === 1) {
      setImmediate(flushWire, this);
      // One promise for the whole write: every message in it is taken at once.
      this.taken = new Promise<void>((resolve) => {
        this.written = resolve;
      });
    }
    return this.taken;
  }

  /** Writes what is queued, in order, as one string. */
  flush(): void {
    const lines = this.queued;
    const written = this.written;
    if (lines.length === 0) return;
    this.queued = [];
    const done = () => {
      this.output.off('drain', done).off('close', done);
      written();
    };
    if (this.output.destroyed || this.output.writableEnded) {
      done();
      return;
    }
    let taken: boolean;
    try {
      taken = this.output.write(lines.length === 1 ? (lines[0] as string) : lines.join(''));
    } catch (error) {
      // Out of a timer callback a throw would be uncaught: the wire reports it and closes instead.
      done();
      this.onOutputError(error as Error);
      return;
    }
    if (taken) done();
    else this.output.once('drain', done).once('close', done);
  }

  private readonly onExit = () => this.flush();

  async close(): Promise<void> {
    if (this.closed) return;
    // What was sent before the close still goes out (the answer to the last request).
    this.flush();
    this.closed = true;
    process.off('exit', this.onExit);
    this.input.off('data', this.onData);
    this.input.off('end', this.onEnd);
    this.input.off('close', this.onEnd);
    this.input.off('error', this.onInputError);
    // Late write failures on a closed stdout stay quiet (no crash, no unhandled error).
    this.output.off('error', this.onOutputError);
    this.output.on('error', () => {});
    if (this.input.listenerCount('data') === 0) this.input.pause();
    this.parts = [];
    for (const release of this.admitted.values()) release();
    this.admitted.clear();
    this.onclose?.();
  }

  private readonly onEnd = () => void this.close();
  private readonly onInputError = (error: Error) => this.onerror?.(error);
  private readonly onOutputError = (error: Error) => {
    this.onerror?.(error);
    void this.close();
  };

  private readonly onData = (chunk: Buffer) => {
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(0x0a, start);
      const end = nl === -1 ? chunk.length : nl;
      if (!this.skipping) {
        this.size += end - start;
        if (this.size > this.o.maxLineBytes) {
          // Answer at once; the rest of the line is dropped as it arrives.
          this.parts = [];
          this.skipping = true;
          this.reply(
            rpcError(null, INVALID_REQUEST, `message larger than ${this.o.maxLineBytes} bytes: not read`),
          );
        } else this.parts.push(chunk.subarray(start, end));
      }
      if (nl === -1) return;
      if (!this.skipping) this.line(Buffer.concat(this.parts).toString('utf8'));
      this.parts = [];
      this.size = 0;
      this.skipping = false;
      start = nl + 1;
    }
  };

  private line(raw: string): void {
    const text = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    if (text.trim() === '') return;
    if (jsonTooDeep(text)) {
      this.reply(rpcError(null, INVALID_REQUEST, `JSON nested deeper than ${MAX_JSON_DEPTH} levels`));
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      this.reply(rpcError(null, PARSE_ERROR, 'Parse error: the line is not valid JSON'));
      return;
    }
    let message: JSONRPCMessage;
    try {
      if (Array.isArray(value)) throw new Error('batch');
      message = parseJSONRPCMessage(value);
    } catch {
      const what = Array.isArray(value) ? 'JSON-RPC batches are not supported' : 'not a JSON-RPC 2.0 message';
      // Only requests get an answer; an id of a response or a notification is not ours to echo.
      const m = value as { method?: unknown } | null;
      this.reply(
        rpcError(
          typeof m?.method === 'string' ? idOf(value) : null,
          INVALID_REQUEST,
          `Invalid Request: ${what}`,
        ),
      );
      return;
    }
    if (!this.admit(message)) return;
    this.onmessage?.(message);
  }

  /** Counts a chat call in, or answers it with the busy error; tracks cancellations. */
  private admit(message: JSONRPCMessage): boolean {
    const m = message as { method?: string; params?: { requestId?: unknown } };
    if (m.method === 'notifications/cancelled') {
      const id = m.params?.requestId;
      if (typeof id === 'string' || typeof id === 'number') this.release(id);
      return true;
    }
    if (!this.o.limiter || !isChatCall(message)) return true;
    const id = idOf(message) as Id;
    const release = this.o.limiter.tryAcquire(this.o.running?.() ?? 0);
    if (!release) {
      this.reply(this.o.limiter.refusal(id));
      return false;
    }
    this.admitted.get(id)?.();
    this.admitted.set(id, release);
    return true;
  }

  private release(id: Id): void {
    const release = this.admitted.get(id);
    if (!release) return;
    this.admitted.delete(id);
    release();
  }

  private reply(message: JSONRPCMessage): void {
    this.send(message).catch((error: unknown) => this.onerror?.(error as Error));
  }
}

function flushWire(wire: StdioWire): void {
  wire.flush();
}
