// The progress relay under backpressure: while the connection is not writable deltas merge; past
// a bound it stops holding text, and the rest goes out as one last delta cut from the answer, so
// the deltas still join to exactly the answer. Reasoning never mixes into content: where the two
// cannot be kept apart, or past the bound, the reasoning view ends.
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { streamWritability, whenWritable } from '../../src/mcp/backpressure.js';
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

describe('progress relay backpressure across channels', () => {
  function blockedRelay(maxPendingChars?: number, heartbeatMs = 60_000) {
    const { clock, advance } = manualClock();
    const state = { writable: true };
    const sent: ProgressUpdate[] = [];
    const relay = new ProgressRelay({
      intervalMs: 10,
      heartbeatMs,
      model: 'm',
      clock,
      canSend: () => state.writable,
      ...(maxPendingChars === undefined ? {} : { maxPendingChars }),
      send: (u) => sent.push(u),
    });
    const joined = (channel: 'content' | 'reasoning') =>
      sent
        .filter((u) => u.channel === channel && !u.heartbeat)
        .map((u) => u.delta)
        .join('');
    return { relay, sent, state, advance, joined };
  }

  it('reasoning pending on a blocked connection never joins the content', () => {
    const { relay, sent, state, advance, joined } = blockedRelay();
    relay.push('reasoning', 'R1 ');
    state.writable = false;
    advance(10);
    relay.push('reasoning', 'R2 ');
    advance(10);
    relay.push('content', 'C1 ');
    advance(10);
    relay.push('content', 'C2');
    state.writable = true;
    advance(10);
    relay.close('C1 C2');
    // Before: one update on channel content carried "R2 C1 C2".
    expect(joined('content')).toBe('C1 C2');
    expect(joined('reasoning')).toBe('R1 R2 ');
    // Each update carries one channel; what was held went out reasoning first, as it came.
    expect(sent.map((u) => [u.channel, u.delta])).toEqual([
      ['reasoning', 'R1 '],
      ['reasoning', 'R2 '],
      ['content', 'C1 C2'],
    ]);
  });

  it('reasoning that arrives while content waits on a blocked connection is not mixed into it', () => {
    const { relay, state, advance, joined } = blockedRelay();
    relay.push('content', 'a');
    state.writable = false;
    advance(10);
    relay.push('content', 'b');
    advance(10);
    relay.push('reasoning', 'r');
    relay.push('content', 'c');
    state.writable = true;
    advance(10);
    relay.push('reasoning', 'later');
    advance(10);
    relay.close('abc');
    expect(joined('content')).toBe('abc');
    // A moment of backpressure does not end the reasoning view.
    expect(joined('reasoning')).toBe('rlater');
  });

  it('holds no more than maxPendingChars of reasoning for a blocked connection', () => {
    const { relay, sent, state, advance, joined } = blockedRelay(100);
    relay.push('reasoning', 'start ');
    state.writable = false;
    for (let i = 0; i < 500; i++) {
      advance(10);
      relay.push('reasoning', `step ${i}; `);
    }
    state.writable = true;
    advance(10);
    relay.push('content', 'answer');
    advance(10);
    relay.close('answer');
    // Before: the 5,000 characters held went out as one update once the connection was writable.
    expect(Math.max(...sent.map((u) => u.delta.length))).toBeLessThanOrEqual(100);
    // Past the bound reasoning is no longer relayed: what was sent is an exact prefix of it.
    expect(joined('reasoning')).toBe('start ');
    expect(joined('content')).toBe('answer');
  });

  it('reasoning no longer relayed reads to the client as thinking', () => {
    const { relay, sent, state, advance } = blockedRelay(10, 60_000);
    relay.push('reasoning', 'r');
    state.writable = false;
    advance(10);
    relay.push('reasoning', 'more than ten characters');
    advance(10);
    state.writable = true;
    relay.push('reasoning', 'and more');
    // Before: nothing at all while the model went on reasoning; now a thinking note at once.
    expect(sent.at(-1)).toMatchObject({ heartbeat: true, message: 'm is thinking… (0s)' });
    relay.close('');
  });

  it('sends no thinking note per switch into a connection that takes nothing; the heartbeat says it', () => {
    const { relay, sent, state, advance } = blockedRelay(5, 1000);
    relay.push('content', 'a');
    state.writable = false;
    advance(10);
    relay.push('content', 'more than five');
    advance(10);
    const before = sent.length;
    // The content is no longer held; the model switches between reasoning and content.
    for (let i = 0; i < 100; i++) {
      relay.push('reasoning', 'r');
      relay.push('content', 'c');
    }
    relay.push('reasoning', 'r');
    advance(50);
    // Before: one note per switch, 100 queued for a client that reads nothing.
    expect(sent.length).toBe(before);
    advance(1000);
    const notes = sent.slice(before);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatchObject({ heartbeat: true, message: 'm is thinking… (1s)' });
    relay.close(`amore than five${'c'.repeat(100)}`);
  });

  it('keeps the heartbeat going after it found text waiting and the relay then stopped holding it', () => {
    const { relay, sent, state, advance } = blockedRelay(5, 30);
    relay.push('content', 'a');
    state.writable = false;
    relay.push('content', 'bb');
    // The heartbeat at 30 finds 'bb' waiting for the connection.
    advance(30);
    for (let i = 0; i < 5; i++) {
      advance(10);
      relay.push('content', 'cc');
    }
    advance(20);
    state.writable = true;
    const at = () => sent.filter((u) => u.heartbeat).map((u) => u.seq);
    // At 60 and 90: heartbeats go out into a full connection too (writing them is how the server
    // learns that a client went away).
    expect(at()).toEqual([2, 3]);
    advance(30);
    advance(30);
    advance(30);
    // Before: after the deferral no heartbeat timer was armed again until the end of the call.
    expect(at()).toEqual([2, 3, 4, 5, 6]);
    relay.close('abbcccccccccc');
    expect(
      sent
        .filter((u) => !u.heartbeat)
        .map((u) => u.delta)
        .join(''),
    ).toBe('abbcccccccccc');
  });
});

describe('connection writability', () => {
  /** A connection whose client reads nothing: every write stays queued. */
  const stalled = () => new Writable({ highWaterMark: 1024, write: () => {} });

  it('a wait for a full connection ends when the connection closes', async () => {
    const stream = stalled();
    stream.write(Buffer.alloc(200 * 1024));
    const w = streamWritability(stream);
    expect(w.canWrite()).toBe(false);
    let ended = false;
    const waiting = whenWritable(w, new AbortController().signal, 10).then(() => {
      ended = true;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(ended).toBe(false);
    stream.destroy();
    // Before: the wait polled a closed connection for ever, holding the call and its answer.
    await Promise.race([waiting, new Promise((r) => setTimeout(r, 1000))]);
    expect(ended).toBe(true);
    expect(w.closed()).toBe(true);
    expect(w.canWrite()).toBe(false);
  });

  it('an open connection with room is writable, not closed', () => {
    const w = streamWritability(stalled());
    expect(w.canWrite()).toBe(true);
    expect(w.closed()).toBe(false);
  });
});

describe('the progress message keeps no long text alive', () => {
  const hasGc = typeof global.gc === 'function';

  /**
   * Heap retained after GC by a relay that was pushed `cut` of 16 MB of text. The text is made in a
   * frame of its own, so only the relay can still hold it.
   */
  function retainedAfterPush(cut: (text: string) => string, earlier?: string): number {
    const gc = global.gc as () => void;
    const relay = new ProgressRelay({ intervalMs: 0, heartbeatMs: 60_000, model: 'm', send: () => {} });
    if (earlier) relay.push('content', earlier);
    const push = () =>
      relay.push('content', cut(`${'é'.repeat(8 * 1024 * 1024)}${'ü'.repeat(8 * 1024 * 1024)}`));
    gc();
    const before = process.memoryUsage().heapUsed;
    push();
    gc();
    const retained = process.memoryUsage().heapUsed - before;
    relay.stop();
    return retained;
  }

  it.runIf(hasGc)('a tail cut from a large delta does not pin the delta (heap after GC)', () => {
    // Before: the tail was a slice of the delta, which kept all 16 MB alive.
    expect(retainedAfterPush((text) => text.slice(1))).toBeLessThan(4 * 1024 * 1024);
  });

  it.runIf(hasGc).each([
    ['a first delta of 500 characters', 500, undefined],
    ['a later delta of 1,200 characters', 1_200, 'an earlier update '],
  ])('a tail of %s cut from a 16 MB string does not pin that string', (_name, chars, earlier) => {
    // A tail kept as the delta itself (or a slice of it) kept the whole string alive.
    expect(retainedAfterPush((text) => text.slice(-chars), earlier)).toBeLessThan(4 * 1024 * 1024);
  });
});
