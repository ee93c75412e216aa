// The progress relay's promises under random input, on a fake clock: pushes on both channels,
// thinking notes, a connection that comes and goes, time passing, then `close`. Seeded, so every
// run checks the same 3,000 cases; a failure names its seed.
import { describe, expect, it } from 'vitest';
import { type Clock, ProgressRelay, type ProgressUpdate } from '../src/mcp/progress.js';

/** A linear congruential generator in 32-bit arithmetic: the same numbers for the same seed. */
function random(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 4294967296;
  };
}

function fakeClock() {
  let now = 0;
  let next = 1;
  const timers = new Map<number, { at: number; fn: () => void }>();
  const clock: Clock = {
    now: () => now,
    setTimeout(fn, ms) {
      timers.set(next, { at: now + ms, fn });
      return next++;
    },
    clearTimeout: (id) => timers.delete(id as number),
  };
  /** Runs every timer due by then, earliest first (also those armed meanwhile). */
  const advance = (ms: number) => {
    const end = now + ms;
    for (;;) {
      let first: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of timers)
        if (entry[1].at <= end && (!first || entry[1].at < first[1].at)) first = entry;
      if (!first) break;
      timers.delete(first[0]);
      now = Math.max(now, first[1].at);
      first[1].fn();
    }
    now = end;
  };
  return { clock, advance, armed: () => timers.size };
}

/** One random call; returns what went wrong, or undefined. */
function runCase(seed: number): string | undefined {
  const rnd = random(seed);
  const { clock, advance, armed } = fakeClock();
  const maxPendingChars = 5 + Math.floor(rnd() * 60);
  let writable = true;
  let closing = false;
  let textWhileBlocked = 0;
  let beatsWhileBlocked = 0;
  const sent: ProgressUpdate[] = [];
  const heartbeatMs = 1 + Math.floor(rnd() * 100);
  const relay = new ProgressRelay({
    intervalMs: Math.floor(rnd() * 50),
    heartbeatMs,
    model: 'm',
    clock,
    canSend: () => writable,
    maxPendingChars,
    send: (u) => {
      // No text goes into a connection that takes nothing, but at the end of the call; heartbeats
      // do (they tell the server whether the client is still there), one a period at most.
      if (!writable && !closing) {
        if (u.heartbeat) beatsWhileBlocked++;
        else textWhileBlocked++;
      }
      sent.push(u);
    },
  });
  let content = '';
  let reasoning = '';
  let maxTimers = 0;
  let blockedSpells = 0;
  let blockedMs = 0;
  const steps = 20 + Math.floor(rnd() * 200);
  for (let k = 0; k < steps; k++) {
    const r = rnd();
    const from = clock.now();
    if (r < 0.35) {
      content += `c${k} `;
      relay.push('content', `c${k} `);
    } else if (r < 0.6) {
      reasoning += `r${k} `;
      relay.push('reasoning', `r${k} `);
    } else if (r < 0.65) relay.noteThinking();
    else if (r < 0.75) {
      writable = !writable;
      if (!writable) blockedSpells++;
    } else advance(Math.floor(rnd() * 40));
    if (!writable) blockedMs += clock.now() - from;
    maxTimers = Math.max(maxTimers, armed());
  }
  if (rnd() < 0.5) writable = true;
  const tail = Math.floor(rnd() * 100);
  advance(tail);
  if (!writable) blockedMs += tail;
  const beforeClose = sent.length;
  closing = true;
  relay.close(content);
  const joined = (channel: string) =>
    sent
      .filter((u) => !u.heartbeat && u.channel === channel)
      .map((u) => u.delta)
      .join('');
  if (joined('content') !== content) return 'the content deltas do not join to the answer';
  if (!reasoning.startsWith(joined('reasoning'))) return 'the reasoning deltas are not a prefix of it';
  if (sent.some((u) => !u.heartbeat && u.delta === '')) return 'an update without text';
  if (textWhileBlocked > 0) return `${textWhileBlocked} updates sent while the connection took nothing`;
  // One heartbeat a period (thinking: at most 5 s), plus one as each blocked spell begins.
  const beatsAllowed = blockedSpells + 1 + blockedMs / Math.min(heartbeatMs, 5000);
  if (beatsWhileBlocked > beatsAllowed) return `${beatsWhileBlocked} heartbeats into a full connection`;
  // Text goes out in the order it came: each update's first token came after the last one's.
  // (At close the relay's deferred content and held reasoning may cross.)
  let lastFirst = -1;
  for (const u of sent.slice(0, beforeClose)) {
    if (u.heartbeat) continue;
    const first = Number(/\d+/.exec(u.delta)?.[0]);
    if (first <= lastFirst) return 'text went out of the order it came in';
    lastFirst = first;
  }
  for (let i = 1; i < sent.length; i++) {
    const [a, b] = [sent[i - 1] as ProgressUpdate, sent[i] as ProgressUpdate];
    if (b.seq !== a.seq + 1 || b.progress <= a.progress) return 'seq or progress did not go up';
  }
  // A window timer and a heartbeat timer at most.
  if (maxTimers > 2) return `${maxTimers} timers armed at once`;
  if (armed() !== 0) return 'a timer left after close';
  return undefined;
}

describe('ProgressRelay under random input', () => {
  it('keeps content exact, reasoning a prefix, numbering increasing and timers bounded', () => {
    const failures: string[] = [];
    for (let seed = 1; seed <= 3000 && failures.length < 3; seed++) {
      const problem = runCase(seed);
      if (problem) failures.push(`seed ${seed}: ${problem}`);
    }
    expect(failures).toEqual([]);
  });
});
