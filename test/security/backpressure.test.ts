// The progress relay under backpressure: while the connection is not writable deltas merge; past
// a bound it stops holding text, and the rest goes out as one last delta cut from the answer, so
// the deltas still join to exactly the answer.
import { describe, expect, it } from 'vitest';
import { type Clock, ProgressRelay, type ProgressUpdate } from '../../src/mcp/progress.js';

function manualClock() {
  let now = 0;
  const timers = new Map<number, { at: number; fn: () => void }>();
  let next = 1;
  const clock: Clock = {
    now: () => now,
    setTimeout: (fn, ms) => {
      const id = next++;
      timers.set(id, { at: now + ms, fn });
      return id;
    },
    clearTimeout: (id) => timers.delete(id as number),
  };
  const advance = (ms: number) => {
    now += ms;
    for (const [id, t] of [...timers]) {
      if (t.at <= now) {
        timers.delete(id);
        t.fn();
      }
    }
  };
  return { clock, advance };
}

describe('progress relay backpressure', () => {
  it('merges deltas while not writable and sends them as one when writable again', () => {
    const { clock, advance } = manualClock();
    let writable = true;
    const sent: ProgressUpdate[] = [];
    const relay = new ProgressRelay({
      intervalMs: 100,
      heartbeatMs: 60_000,
      model: 'm',
      clock,
      canSend: () => writable,
      send: (u) => sent.push(u),
    });
    relay.push('content', 'a');
    writable = false;
    for (let i = 0; i < 50; i++) {
      advance(100);
      relay.push('content', 'b');
    }
    expect(sent).toHaveLength(1);
    writable = true;
    advance(100);
    expect(sent).toHaveLength(2);
    expect(sent[1]?.delta).toBe('b'.repeat(50));
    relay.close(`a${'b'.repeat(50)}`);
  });

  it('past maxPendingChars holds no text; the last delta comes from the answer and all deltas join to it', () => {
    const { clock, advance } = manualClock();
    let writable = true;
    const sent: ProgressUpdate[] = [];
    const relay = new ProgressRelay({
      intervalMs: 10,
      heartbeatMs: 60_000,
      model: 'm',
      clock,
      canSend: () => writable,
      maxPendingChars: 100,
      send: (u) => sent.push(u),
    });
    const parts = Array.from({ length: 500 }, (_, i) => `part ${i}; `);
    relay.push('content', parts[0] ?? '');
    writable = false;
    for (const p of parts.slice(1)) {
      advance(10);
      relay.push('content', p);
    }
    expect(sent).toHaveLength(1);
    writable = true;
    advance(10);
    // Deferred: nothing is sent mid-stream any more, whatever the connection does.
    expect(sent).toHaveLength(1);
    const answer = parts.join('');
    relay.close(answer);
    expect(sent.map((u) => u.delta).join('')).toBe(answer);
    expect(relay.contentChars).toBe(answer.length);
  });
});
