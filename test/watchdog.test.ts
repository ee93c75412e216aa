// The attempt's clock on its own: which deadline expires, and when nothing may.
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { type Expiry, Watchdog } from '../src/streaming/watchdog.js';

function watched(firstTokenMs: number, idleMs: number, graceMs = 1000) {
  const expired: Expiry[] = [];
  const w = new Watchdog(firstTokenMs, idleMs, graceMs, { expired: (what) => expired.push(what) });
  return { w, expired };
}

describe('Watchdog', () => {
  it('expires with first-token when no chunk arrives', async () => {
    const { w, expired } = watched(20, 1000);
    await sleep(80);
    expect(expired).toEqual(['first-token']);
    w.stop();
  });

  it('counts the first-token deadline from its start, though its timer is armed a tick later', async () => {
    // The timer is armed after the request is written; the deadline is not pushed back by the
    // time the process spends before that tick (here 60 ms of synchronous work).
    const { w, expired } = watched(100, 10_000);
    const started = performance.now();
    while (performance.now() - started < 60) {
      // busy: the tick that arms the timer waits for this
    }
    await sleep(70);
    // 130 ms after the start: expired at 100 ms (a timer armed for the whole 100 ms at the tick
    // would fire at 160 ms).
    expect(expired).toEqual(['first-token']);
    w.stop();
  });

  it('arms one timer when a chunk arrives before the tick that arms the first one', async () => {
    // The first chunk hands over to the idle deadline at once; the tick then arms nothing more,
    // so stopping the watchdog leaves no timer of it behind.
    const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    const { w, expired } = watched(60, 20);
    w.chunks();
    await new Promise((resolve) => process.nextTick(resolve));
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
