// ChatStream: what `create({ stream: true })` returns. An async iterable of chunks (read once),
// plus `finalResult()`, which works with or without iterating. It is its run's sink.
import { AbortError } from '../errors.js';
import type { ChatCompletionChunk, ChatResult } from '../types.js';
import { ChunkQueue } from './queue.js';
import type { RunSettled, RunSink } from './runner.js';

/** What a stream needs of the run that feeds it. */
interface FollowedRun {
  readonly signal: AbortSignal;
  abort(reason: unknown): void;
  contentSoFar(): string;
}

export class ChatStream implements AsyncIterable<ChatCompletionChunk>, RunSink {
  private readonly queue: ChunkQueue<ChatCompletionChunk>;
  private iterating = false;
  private settled: RunSettled | undefined;
  /** finalResult() callers waiting for the run to end (none in most streams). */
  private waiting: { resolve(r: ChatResult): void; reject(e: unknown): void }[] | undefined;
  /** Told once when the stream opened (`create` resolves then), or when the run failed first. */
  private opening: { resolve(s: ChatStream): void; reject(e: unknown): void } | undefined;

  /** The run this stream is the sink of: what abort() and `signal` act on. */
  private run: FollowedRun | undefined;

  /** @internal Built by the client, which starts the run with this stream as its sink. */
  constructor(highWaterMark = 256) {
    this.queue = new ChunkQueue<ChatCompletionChunk>(highWaterMark);
  }

  /** @internal The run that feeds this stream. */
  follow(run: FollowedRun): void {
    this.run = run;
  }

  /**
   * @internal The content the run has aggregated so far, chunks not yet read included: a reader
   * that needs the text it has read takes the first characters it counted, and keeps no copy.
   */
  contentSoFar(): string {
    return this.run?.contentSoFar() ?? '';
  }

  /** @internal Resolves with this stream once it opened; rejects when the run failed before. */
  opened(): Promise<ChatStream> {
    return new Promise((resolve, reject) => {
      this.opening = { resolve, reject };
    });
  }

  /** RunSink */
  onChunk(chunk: ChatCompletionChunk): void {
    this.queue.push(chunk);
  }

  /** RunSink */
  needsDrain(): boolean {
    return this.queue.full;
  }

  /** RunSink */
  whenDrained(): Promise<void> {
    return this.queue.whenDrained();
  }

  /** RunSink */
  onOpen(): void {
    const opening = this.opening;
    this.opening = undefined;
    opening?.resolve(this);
  }

  /** RunSink: the run ended; its end is passed on to the iterator and finalResult(). */
  onEnd(settled: RunSettled): void {
    this.settled = settled;
    const opening = this.opening;
    this.opening = undefined;
    if ('error' in settled) {
      this.queue.fail(settled.error);
      opening?.reject(settled.error);
    } else {
      if (settled.outcome.failure === undefined) this.queue.end();
      else this.queue.fail(settled.outcome.failure);
      opening?.resolve(this);
    }
    const waiting = this.waiting;
    this.waiting = undefined;
    for (const w of waiting ?? []) this.answer(w);
  }

  private answer(w: { resolve(r: ChatResult): void; reject(e: unknown): void }): void {
    const s = this.settled as RunSettled;
    if ('error' in s) w.reject(s.error);
    else w.resolve(s.outcome.result);
  }

  [Symbol.asyncIterator](): AsyncIterator<ChatCompletionChunk> {
    if (this.iterating) throw new Error('a ChatStream can be iterated only once');
    this.iterating = true;
    return new StreamIterator(this, this.queue);
  }

  /**
   * The aggregated answer. Resolves with a partial result (`metadata.interrupted`) when the
   * stream broke after tokens arrived; rejects when it failed before any.
   */
  finalResult(): Promise<ChatResult> {
    // Nobody will read chunks that are not being iterated: stop buffering them. Checked a tick
    // later, so `const r = s.finalResult(); for await (const c of s)` still gets every chunk.
    queueMicrotask(() => {
      if (!this.iterating) this.queue.drop();
    });
    return new Promise((resolve, reject) => {
      const w = { resolve, reject };
      if (this.settled) this.answer(w);
      else {
        this.waiting ??= [];
        this.waiting.push(w);
      }
    });
  }

  /** Cancels the upstream request at once. */
  abort(): void {
    this.run?.abort(new AbortError());
  }

  /**
   * Aborted when the request is cancelled (by `abort()`, with an AbortError, or by the caller's
   * signal, with its reason) or when its total deadline passes (with a TimeoutError).
   */
  get signal(): AbortSignal {
    return (this.run as { readonly signal: AbortSignal }).signal;
  }
}

/** The iterator of one ChatStream: an object of its own, so that iterating makes no closures. */
class StreamIterator implements AsyncIterator<ChatCompletionChunk> {
  constructor(
    private readonly stream: ChatStream,
    private readonly queue: ChunkQueue<ChatCompletionChunk>,
  ) {}

  next(): Promise<IteratorResult<ChatCompletionChunk>> {
    return this.queue.next();
  }

  /** Breaking out of `for await` cancels the upstream request, as openai-node does. */
  return(): Promise<IteratorResult<ChatCompletionChunk>> {
    this.stream.abort();
    this.queue.drop();
    return Promise.resolve({ value: undefined, done: true });
  }
}
