// A single-consumer async queue with a high-water mark: the producer learns when to pause reading.

export class ChunkQueue<T> {
  /** Made when an item has to wait (a consumer that keeps up never needs it). */
  private items: T[] | undefined;
  private head = 0;
  private waiter: ((r: IteratorResult<T>) => void) | undefined;
  private failer: ((e: unknown) => void) | undefined;
  private drainWaiter: (() => void) | undefined;
  private ended = false;
  private failure: { error: unknown } | undefined;
  /** When true, items are dropped instead of buffered (nobody will read them). */
  discard = false;

  constructor(private readonly highWaterMark = 256) {}

  get size(): number {
    return (this.items?.length ?? 0) - this.head;
  }

  get full(): boolean {
    return this.size >= this.highWaterMark;
  }

  push(item: T): void {
    if (this.ended || this.discard) return;
    const w = this.waiter;
    if (w) {
      this.waiter = undefined;
      this.failer = undefined;
      w({ value: item, done: false });
      return;
    }
    if (this.items) this.items.push(item);
    else this.items = [item];
  }

  end(): void {
    this.ended = true;
    this.settleWaiter();
  }

  fail(error: unknown): void {
    if (this.ended) return;
    this.failure = { error };
    this.ended = true;
    this.settleWaiter();
  }

  /** Resolves once the consumer has drained the queue to half the high-water mark or less. */
  whenDrained(): Promise<void> {
    if (!this.full || this.discard) return Promise.resolve();
    return new Promise((resolve) => {
      this.drainWaiter = resolve;
    });
  }

  /** Drops buffered items and stops buffering: for results-only consumers. */
  drop(): void {
    this.discard = true;
    this.items = undefined;
    this.head = 0;
    this.releaseDrain();
  }

  next(): Promise<IteratorResult<T>> {
    const { items } = this;
    if (items && items.length > this.head) {
      const value = items[this.head] as T;
      items[this.head] = undefined as T;
      this.head++;
      if (this.head === items.length) {
        // Drained: a stream that waits for its next chunk keeps no array of spent slots.
        this.items = undefined;
        this.head = 0;
      } else if (this.head > 1024 && this.head * 2 > items.length) {
        this.items = items.slice(this.head);
        this.head = 0;
      }
      if (this.drainWaiter && this.size <= this.highWaterMark / 2) this.releaseDrain();
      return Promise.resolve({ value, done: false });
    }
    this.releaseDrain();
    if (this.failure) {
      const { error } = this.failure;
      this.failure = undefined;
      return Promise.reject(error);
    }
    if (this.ended) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.waiter = resolve;
      this.failer = reject;
    });
  }

  private releaseDrain(): void {
    const d = this.drainWaiter;
    this.drainWaiter = undefined;
    d?.();
  }

  private settleWaiter(): void {
    const w = this.waiter;
    const f = this.failer;
    if (!w || !f) return;
    this.waiter = undefined;
    this.failer = undefined;
    if (this.failure) {
      const { error } = this.failure;
      this.failure = undefined;
      f(error);
    } else {
      w({ value: undefined, done: true });
    }
  }
}
