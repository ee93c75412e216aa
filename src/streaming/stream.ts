// ChatStream: what `create({ stream: true })` returns. An async iterable of chunks (read once),
// plus `finalResult()`, which works with or without iterating.
import { AbortError } from '../errors.js';
import type { ChatCompletionChunk, ChatResult } from '../types.js';
import { ChunkQueue } from './queue.js';
import type { RunOutcome } from './runner.js';

export interface StreamHooks {
  onChunk(chunk: ChatCompletionChunk): void;
  needsDrain(): boolean;
  whenDrained(): Promise<void>;
}

export class ChatStream implements AsyncIterable<ChatCompletionChunk> {
  private readonly queue: ChunkQueue<ChatCompletionChunk>;
  private readonly outcome: Promise<RunOutcome>;
  private iterating = false;

  /** @param start begins the run with the hooks that feed this stream. */
  constructor(
    start: (hooks: StreamHooks) => Promise<RunOutcome>,
    private readonly controller: AbortController,
    highWaterMark = 256,
  ) {
    const queue = new ChunkQueue<ChatCompletionChunk>(highWaterMark);
    this.queue = queue;
    this.outcome = start({
      onChunk: (c) => queue.push(c),
      needsDrain: () => queue.full,
      whenDrained: () => queue.whenDrained(),
    });
    this.outcome.then(
      (o) => (o.failure === undefined ? queue.end() : queue.fail(o.failure)),
      (e) => queue.fail(e),
    );
  }

  [Symbol.asyncIterator](): AsyncIterator<ChatCompletionChunk> {
    if (this.iterating) throw new Error('a ChatStream can be iterated only once');
    this.iterating = true;
    return {
      next: () => this.queue.next(),
      // Breaking out of `for await` cancels the upstream request, as openai-node does.
      return: async () => {
        this.abort();
        this.queue.drop();
        return { value: undefined, done: true };
      },
    };
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
    return this.outcome.then((o) => o.result);
  }

  /** Cancels the upstream request at once. */
  abort(): void {
    if (!this.controller.signal.aborted) this.controller.abort(new AbortError());
  }

  /**
   * Aborted when the request is cancelled (by `abort()`, with an AbortError, or by the caller's
   * signal, with its reason) or when its total deadline passes (with a TimeoutError).
   */
  get signal(): AbortSignal {
    return this.controller.signal;
  }
}
