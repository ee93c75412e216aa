// The progress relay as pure logic on a fake clock: coalescing, channels, heartbeats, tails, stop.
import { describe, expect, it } from 'vitest';
import { type Clock, ProgressRelay, type ProgressUpdate } from '../src/mcp/progress.js';
import { realClock } from '../src/mcp/relay-clock.js';

/**
 * A manual clock: timers fire only when `advance` passes their due time. With `early`, a timer fires
 * that much before its due time, as node's do (whole milliseconds against a fractional clock).
 */
function fakeClock(early = 0) {
  let t = 0;
  let nextId = 1;
  let armed = 0;
  const timers = new Map<number, { due: number; fn: () => void }>();
  const clock: Clock = {
    now: () => t,
    setTimeout(fn, ms) {
      armed++;
      const id = nextId++;
      timers.set(id, { due: t + Math.max(early ? 1 : 0, ms) - early, fn });
      return id;
    },
    clearTimeout(id) {
      timers.delete(id as number);
    },
  };
  const advance = (ms: number) => {
    const end = t + ms;
    for (;;) {
      const next = [...timers.entries()].sort((a, b) => a[1].due - b[1].due)[0];
      if (!next || next[1].due > end) break;
      timers.delete(next[0]);
      t = next[1].due;
      next[1].fn();
    }
    t = end;
  };
  return { clock, advance, pending: () => timers.size, armed: () => armed };
}

function setup(intervalMs = 100, heartbeatMs = 10_000, early = 0) {
  const fc = fakeClock(early);
  const sent: Array<ProgressUpdate & { at: number }> = [];
  const relay = new ProgressRelay({
    intervalMs,
    heartbeatMs,
    model: 'glm-4.6',
    clock: fc.clock,
    send: (u) => sent.push({ ...u, at: fc.clock.now() }),
  });
  return { ...fc, relay, sent };
}

describe('ProgressRelay', () => {
  it('sends the first token at once, then at most one update per interval', () => {
    const { relay, sent, advance } = setup(100);
    relay.push('content', 'Hello');
    expect(sent.map((s) => s.delta)).toEqual(['Hello']);
    for (let i = 0; i < 10; i++) {
      advance(10);
      relay.push('content', ` w${i}`);
    }
    // 100 ms after the first update the window reopens: everything pending goes in one update;
    // the token that arrives just then waits for the next window.
    expect(sent).toHaveLength(2);
    expect(sent[1]).toMatchObject({ delta: ' w0 w1 w2 w3 w4 w5 w6 w7 w8', at: 100, seq: 2 });
    advance(500);
    expect(sent).toHaveLength(3);
    expect(sent[2]).toMatchObject({ delta: ' w9', at: 200, seq: 3 });
    for (let i = 1; i < sent.length; i++) {
      expect((sent[i]?.at ?? 0) - (sent[i - 1]?.at ?? 0)).toBeGreaterThanOrEqual(100);
    }
  });

  it('never sends an update before its window is over, also when the timer fires early', () => {
    // Node's timers fire a millisecond or more early against performance.now().
    const { relay, sent, advance } = setup(100, 10_000, 0.5);
    relay.push('content', 'a');
    for (let i = 0; i < 50; i++) {
      advance(10);
      relay.push('content', ` w${i}`);
    }
    advance(200);
    const updates = sent.filter((s) => !s.heartbeat);
    expect(updates.length).toBeGreaterThan(4);
    for (let i = 1; i < updates.length; i++) {
      expect((updates[i]?.at ?? 0) - (updates[i - 1]?.at ?? 0)).toBeGreaterThanOrEqual(100);
    }
    expect(updates.map((u) => u.delta).join('')).toBe(
      `a${Array.from({ length: 50 }, (_, i) => ` w${i}`).join('')}`,
    );
  });

  it('keeps the window when a heartbeat period is shorter than it', () => {
    const { relay, sent, advance } = setup(100, 30);
    relay.push('content', 'a');
    advance(10);
    relay.push('content', 'b');
    advance(200);
    const updates = sent.filter((s) => !s.heartbeat);
    expect(updates.map((u) => [u.delta, u.at])).toEqual([
      ['a', 0],
      ['b', 100],
    ]);
    // The heartbeat goes on a period after that update.
    expect(sent.find((s) => s.heartbeat)?.at).toBe(130);
  });

  it('keeps the window on node timers: no two updates closer than the interval', async () => {
    // The real clock: tokens every 4 ms into 30 ms windows for about 0.6 s.
    const at: number[] = [];
    // Node's own timers, with the relay's own clock readings recorded: the time it sent at.
    let read = 0;
    const clock = { ...realClock, now: () => (read = realClock.now()) };
    const relay = new ProgressRelay({
      intervalMs: 30,
      heartbeatMs: 60_000,
      model: 'glm-4.6',
      clock,
      send: (u) => {
        if (!u.heartbeat) at.push(read);
      },
    });
    for (let i = 0; i < 150; i++) {
      relay.push('content', 'tok ');
      await new Promise((resolve) => setTimeout(resolve, 4));
    }
    relay.stop();
    const gaps = at.slice(1).map((t, i) => t - (at[i] ?? 0));
    expect(gaps.length).toBeGreaterThan(10);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(30);
  });

  it('sends text arriving after a quiet interval at once', () => {
    const { relay, sent, advance } = setup(100);
    relay.push('content', 'a');
    advance(250);
    relay.push('content', 'b');
    expect(sent.map((s) => [s.delta, s.at])).toEqual([
      ['a', 0],
      ['b', 250],
    ]);
  });

  it('keeps progress strictly increasing and seq counting 1, 2, 3', () => {
    const { relay, sent, advance } = setup(100, 1000);
    relay.push('content', 'abc');
    advance(3000); // heartbeats carry no text but still move progress
    relay.push('content', 'de');
    relay.close();
    expect(sent.map((s) => s.seq)).toEqual(sent.map((_, i) => i + 1));
    for (let i = 1; i < sent.length; i++)
      expect(sent[i]?.progress).toBeGreaterThan(sent[i - 1]?.progress ?? 0);
    expect(sent.at(-1)?.progress).toBe(5 + sent.length);
  });

  it('flushes pending text of one channel before text of the other, never mixing them', () => {
    const { relay, sent, advance } = setup(100);
    relay.push('reasoning', 'think ');
    advance(10);
    relay.push('reasoning', 'more ');
    advance(10);
    relay.push('content', 'Answer');
    advance(10);
    relay.push('content', ' here');
    relay.close();
    expect(sent.map((s) => [s.channel, s.delta])).toEqual([
      ['reasoning', 'think '],
      ['reasoning', 'more '],
      ['content', 'Answer here'],
    ]);
    expect(sent[0]?.message).toBe('thinking: think ');
    expect(sent[2]?.message).toBe('Answer here');
  });

  it('joins content deltas to exactly the pushed text, whatever the timing', () => {
    const { relay, sent, advance } = setup(37);
    const parts = Array.from({ length: 200 }, (_, i) => (i % 7 === 0 ? '\n' : `tok${i} `));
    parts.forEach((p, i) => {
      advance((i * 13) % 29);
      relay.push('content', p);
    });
    relay.close();
    expect(sent.map((s) => s.delta).join('')).toBe(parts.join(''));
    expect(relay.contentChars).toBe(parts.join('').length);
  });

  it('flushes what is pending on close and then sends nothing more', () => {
    const { relay, sent, advance, pending } = setup(100, 500);
    relay.push('content', 'a');
    relay.push('content', 'b');
    expect(sent).toHaveLength(1);
    relay.close();
    expect(sent.map((s) => s.delta)).toEqual(['a', 'b']);
    relay.push('content', 'c');
    advance(10_000);
    expect(sent).toHaveLength(2);
    expect(pending()).toBe(0);
  });

  it('drops pending text and clears every timer on stop (cancellation)', () => {
    const { relay, sent, advance, pending } = setup(100, 500);
    relay.push('content', 'a');
    relay.push('content', 'b');
    relay.stop();
    expect(pending()).toBe(0);
    advance(10_000);
    expect(sent.map((s) => s.delta)).toEqual(['a']);
  });

  it('sends a heartbeat every period of silence, with empty delta and a waiting message', () => {
    const { relay, sent, advance } = setup(100, 10_000);
    advance(9_999);
    expect(sent).toHaveLength(0);
    advance(1);
    expect(sent[0]).toMatchObject({ delta: '', heartbeat: true, channel: 'content', seq: 1, progress: 1 });
    expect(sent[0]?.message).toBe('waiting for glm-4.6… (10s)');
    advance(10_000);
    expect(sent[1]?.message).toBe('waiting for glm-4.6… (20s)');
    // Text right after a heartbeat goes out at once (a heartbeat does not open a coalescing
    // window); the next heartbeat is due 10 s after it.
    relay.push('content', 'x');
    expect(sent[2]).toMatchObject({ delta: 'x', heartbeat: false });
    advance(9_999);
    expect(sent).toHaveLength(3);
    advance(1);
    expect(sent[3]).toMatchObject({ heartbeat: true, message: 'waiting for glm-4.6… (10s)' });
  });

  it('says the model is thinking at once when hidden reasoning starts, then every 5 s', () => {
    const { relay, sent, advance } = setup(100, 10_000);
    advance(2_000);
    relay.noteThinking();
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ delta: '', heartbeat: true, message: 'glm-4.6 is thinking… (2s)' });
    // More reasoning chunks do not each send a note.
    relay.noteThinking();
    advance(4_999);
    expect(sent).toHaveLength(1);
    advance(1);
    expect(sent[1]?.message).toBe('glm-4.6 is thinking… (7s)');
    advance(5_000);
    expect(sent[2]?.message).toBe('glm-4.6 is thinking… (12s)');
    // Once the answer flows, silence is back to the heartbeat period.
    relay.push('content', 'x');
    advance(9_999);
    expect(sent).toHaveLength(4);
    advance(1);
    expect(sent[4]?.message).toBe('waiting for glm-4.6… (10s)');
  });

  it('continues seq and progress from where an earlier part ended', () => {
    const fc = fakeClock();
    const sent: ProgressUpdate[] = [];
    const relay = new ProgressRelay({
      intervalMs: 100,
      heartbeatMs: 10_000,
      model: 'glm-4.6',
      clock: fc.clock,
      start: { seq: 7, progress: 107 },
      send: (u) => sent.push(u),
    });
    relay.push('content', 'abc');
    expect(sent[0]).toMatchObject({ seq: 8, progress: 111, delta: 'abc' });
    expect(relay.sent).toBe(8);
    expect(relay.progress).toBe(111);
  });

  it('does not send heartbeats while text keeps flowing', () => {
    const { relay, sent, advance } = setup(100, 1_000);
    for (let i = 0; i < 50; i++) {
      relay.push('content', 'x');
      advance(200);
    }
    expect(sent.some((s) => s.heartbeat)).toBe(false);
  });

  it('pushes the heartbeat back with every update, without a timer per update', () => {
    const { relay, sent, advance, armed } = setup(100, 1_000);
    for (let i = 0; i < 10; i++) {
      relay.push('content', 'x');
      advance(200);
    }
    advance(2_000);
    const beats = sent.filter((s) => s.heartbeat);
    // The last update went out at 1,800 ms: the first heartbeat is one period after it.
    expect(sent.filter((s) => !s.heartbeat).at(-1)?.at).toBe(1_800);
    expect(beats.map((b) => b.at)).toEqual([2_800, 3_800]);
    // Ten updates, and far fewer timers (each update used to clear and arm one).
    expect(armed()).toBeLessThan(8);
  });

  it('sends a heartbeat when its timer fires, also a little before the due time (no second timer)', () => {
    // Node's timers fire up to a millisecond early against performance.now().
    const { sent, advance, armed } = setup(100, 50, 0.5);
    advance(300);
    const beats = sent.filter((s) => s.heartbeat);
    expect(beats.map((b) => b.at)).toEqual([49.5, 99, 148.5, 198, 247.5, 297]);
    // One timer at the start and one after each heartbeat.
    expect(armed()).toBe(beats.length + 1);
  });
});
