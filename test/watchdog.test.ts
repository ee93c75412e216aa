// The attempt's clock on its own: which deadline expires, and when nothing may.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { type Expiry, Watchdog } from '../src/streaming/watchdog.js';

function watched(firstTokenMs: number, idleMs: number, graceMs = 1000) {
  const expired: Expiry[] = [];
  const w = new Watchdog(firstTokenMs, idleMs, graceMs, { expired: (what) => expired.push(what) });
  w.start();
  return { w, expired };
}

describe('Watchdog', () => {
  it('expires with first-token when no chunk arrives', async () => {
    const { w, expired } = watched(20, 1000);
    await sleep(80);
    expect(expired).toEqual(['first-token']);
    w.stop();
  });

  it('counts the first-token deadline from when it was made, though started later', async () => {
    // A stream attempt starts its watchdog once its request is written; the time before that
    // (here 60 ms of synchronous work) is not added to the deadline.
    const expired: Expiry[] = [];
    const w = new Watchdog(100, 10_000, 1000, { expired: (what) => expired.push(what) });
    const made = performance.now();
    while (performance.now() - made < 60) {
      // busy
    }
    w.start();
    await sleep(70);
    // 130 ms after it was made: expired at 100 ms (a timer armed for the whole 100 ms at the
    // start would fire at 160 ms).
    expect(expired).toEqual(['first-token']);
    w.stop();
  });

  it('arms one timer when a chunk arrives before it is started', async () => {
    // The first chunk hands over to the idle deadline at once; starting then arms nothing more,
    // so stopping the watchdog leaves no timer of it behind.
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    const expired: Expiry[] = [];
    const w = new Watchdog(60, 20, 1000, { expired: (what) => expired.push(what) });
    w.chunks();
    w.start();
    expect(timers()).toBe(before + 1);
    w.stop();
    expect(timers()).toBe(before);
    expect(expired).toEqual([]);
  });

  it('hands over to the idle deadline at the first chunk', async () => {
    const { w, expired } = watched(10_000, 20);
    w.chunks();
    await sleep(80);
    expect(expired).toEqual(['idle']);
    w.stop();
  });

  it('a chunk before the first-token deadline makes a later silence an idle expiry', async () => {
    // The first-token timer stays armed (it fires before the idle deadline) and re-checks.
    const { w, expired } = watched(30, 50);
    await sleep(5);
    w.chunks();
    await sleep(150);
    expect(expired).toEqual(['idle']);
    w.stop();
  });

  it('does not count a pause (the consumer is behind) as the provider going silent', async () => {
    const idleMs = 200;
    let expiredAt = 0;
    const w = new Watchdog(10_000, idleMs, 1000, {
      expired: () => {
        expiredAt = performance.now();
      },
    });
    w.start();
    w.chunks();
    w.pause();
    await sleep(2.5 * idleMs);
    expect(expiredAt).toBe(0);
    const resumedAt = performance.now();
    w.resume();
    await sleep(2 * idleMs);
    // The idle time counts from the resume, not from the last chunk: the check that comes half an
    // idle period after the resume must not expire.
    expect(expiredAt).toBeGreaterThan(0);
    expect(expiredAt - resumedAt).toBeGreaterThanOrEqual(idleMs - 2);
    w.stop();
  });

  it('after finish, only the grace period for the end of the body runs', async () => {
    const { w, expired } = watched(10_000, 10_000, 20);
    w.chunks();
    w.finish();
    expect(w.done).toBe(true);
    w.awaitEnd();
    await sleep(80);
    expect(expired).toEqual(['grace']);
    w.stop();
  });

  it('stays silent once stopped, even if asked to wait for the end afterwards', async () => {
    const { w, expired } = watched(20, 20, 20);
    w.stop();
    w.finish();
    w.awaitEnd();
    await sleep(80);
    expect(expired).toEqual([]);
  });
});
