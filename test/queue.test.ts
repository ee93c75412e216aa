// ChunkQueue: a single-consumer FIFO with end/fail and a high-water mark that pauses the producer.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChunkQueue } from '../src/streaming/queue.js';

/** The state of a promise once pending microtasks have run (no timers involved). */
async function state(p: Promise<unknown>): Promise<'pending' | 'resolved' | 'rejected'> {
  let s: 'pending' | 'resolved' | 'rejected' = 'pending';
  p.then(
    () => {
      s = 'resolved';
    },
    () => {
      s = 'rejected';
    },
  );
  for (let i = 0; i < 5; i++) await Promise.resolve();
  return s;
}

/** Reads until the queue reports done. */
async function drain<T>(q: ChunkQueue<T>): Promise<T[]> {
  const out: T[] = [];
  for (let r = await q.next(); !r.done; r = await q.next()) out.push(r.value);
  return out;
}

describe('ChunkQueue order and completion', () => {
  it('delivers items in the order they were pushed', async () => {
    const q = new ChunkQueue<number>();
    for (const n of [1, 2, 3]) q.push(n);
    q.end();
    expect(await drain(q)).toEqual([1, 2, 3]);
  });

  it('resumes a waiting consumer when an item is pushed', async () => {
    const q = new ChunkQueue<string>();
    const waiting = q.next();
    expect(await state(waiting)).toBe('pending');
    q.push('a');
    expect(await waiting).toEqual({ value: 'a', done: false });
    expect(q.size).toBe(0);
  });

  it('hands the item straight to a waiting consumer and buffers the rest', async () => {
    const q = new ChunkQueue<string>();
    const waiting = q.next();
    q.push('a');
    q.push('b');
    expect(q.size).toBe(1);
    expect(await waiting).toEqual({ value: 'a', done: false });
    expect(await q.next()).toEqual({ value: 'b', done: false });
  });

  it('ends a waiting consumer with done', async () => {
    const q = new ChunkQueue<string>();
    const waiting = q.next();
    q.end();
    expect(await waiting).toEqual({ value: undefined, done: true });
  });

  it('delivers buffered items before reporting the end, and keeps reporting done', async () => {
    const q = new ChunkQueue<string>();
    q.push('a');
    q.end();
    expect(await q.next()).toEqual({ value: 'a', done: false });
    expect(await q.next()).toEqual({ value: undefined, done: true });
    expect(await q.next()).toEqual({ value: undefined, done: true });
  });

  it('ignores pushes after the end', async () => {
    const q = new ChunkQueue<string>();
    q.end();
    q.push('late');
    expect(q.size).toBe(0);
    expect(await drain(q)).toEqual([]);
  });
});

describe('ChunkQueue failure', () => {
  it('delivers the failure after the buffered items, once, then reports done', async () => {
    const q = new ChunkQueue<string>();
    const boom = new Error('boom');
    q.push('a');
    q.push('b');
    q.fail(boom);
    expect(await q.next()).toEqual({ value: 'a', done: false });
    expect(await q.next()).toEqual({ value: 'b', done: false });
    await expect(q.next()).rejects.toBe(boom);
    expect(await q.next()).toEqual({ value: undefined, done: true });
  });

  it('rejects a waiting consumer', async () => {
    const q = new ChunkQueue<string>();
    const waiting = q.next();
    const boom = new Error('boom');
    q.fail(boom);
    await expect(waiting).rejects.toBe(boom);
  });

  it('ignores a failure after a clean end', async () => {
    const q = new ChunkQueue<string>();
    q.push('a');
    q.end();
    q.fail(new Error('too late'));
    expect(await drain(q)).toEqual(['a']);
  });

  it('keeps only the first failure and ignores pushes after it', async () => {
    const q = new ChunkQueue<string>();
    const first = new Error('first');
    q.fail(first);
    q.fail(new Error('second'));
    q.push('late');
    await expect(q.next()).rejects.toBe(first);
    expect(await q.next()).toEqual({ value: undefined, done: true });
  });
});

describe('ChunkQueue backpressure', () => {
  it('is full exactly when the buffer reaches the high-water mark', () => {
    const q = new ChunkQueue<number>(3);
    const fullness: boolean[] = [q.full];
    for (let i = 0; i < 4; i++) {
      q.push(i);
      fullness.push(q.full);
    }
    expect(fullness).toEqual([false, false, false, true, true]);
  });

  it('uses a high-water mark of 256 by default', () => {
    const q = new ChunkQueue<number>();
    for (let i = 0; i < 255; i++) q.push(i);
    expect(q.full).toBe(false);
    q.push(255);
    expect(q.full).toBe(true);
  });

  it('resolves whenDrained at once when the queue is not full', async () => {
    const q = new ChunkQueue<number>(3);
    q.push(1);
    expect(await state(q.whenDrained())).toBe('resolved');
  });

  it('resolves whenDrained only after the consumer has taken the queue down to half the mark', async () => {
    const q = new ChunkQueue<number>(5);
    for (let i = 0; i < 5; i++) q.push(i);
    const drained = q.whenDrained();
    const seen: Array<[number, string]> = [];
    for (let i = 0; i < 3; i++) {
      await q.next();
      seen.push([q.size, await state(drained)]);
    }
    expect(seen).toEqual([
      [4, 'pending'],
      [3, 'pending'],
      [2, 'resolved'],
    ]);
  });

  it('resolves whenDrained when a consumer finds the queue empty and waits', async () => {
    const q = new ChunkQueue<number>(0);
    const drained = q.whenDrained();
    expect(await state(drained)).toBe('pending');
    void q.next();
    expect(await state(drained)).toBe('resolved');
  });

  it('drops buffered items and stops buffering on drop()', async () => {
    const q = new ChunkQueue<number>(2);
    q.push(1);
    q.push(2);
    const drained = q.whenDrained();
    q.drop();
    expect(await state(drained)).toBe('resolved');
    expect([q.size, q.full, q.discard]).toEqual([0, false, true]);
    q.push(3);
    q.push(4);
    q.push(5);
    expect(q.size).toBe(0);
    expect(await state(q.whenDrained())).toBe('resolved');
    q.end();
    expect(await drain(q)).toEqual([]);
  });
});

describe('ChunkQueue properties', () => {
  it('preserves FIFO order across any interleaving of pushes and reads, including buffer compaction', async () => {
    // Each step pushes some items and then reads some (never more than are buffered).
    const steps = fc.array(fc.tuple(fc.nat(1_500), fc.nat(1_500)), { minLength: 1, maxLength: 8 });
    await fc.assert(
      fc.asyncProperty(steps, async (plan) => {
        const q = new ChunkQueue<number>(100);
        const model: number[] = [];
        const read: number[] = [];
        let next = 0;
        for (const [pushes, reads] of plan) {
          for (let i = 0; i < pushes; i++) {
            q.push(next);
            model.push(next++);
          }
          const n = Math.min(reads, q.size);
          for (let i = 0; i < n; i++) {
            const r = await q.next();
            if (!r.done) read.push(r.value);
          }
          expect(q.size).toBe(model.length - read.length);
          expect(q.full).toBe(q.size >= 100);
        }
        q.end();
        read.push(...(await drain(q)));
        expect(read).toEqual(model);
      }),
      { numRuns: 50 },
    );
  });
});
