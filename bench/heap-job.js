// The worker side of the per-stream heap figure: `streams` open, idle-paced streams (each has
// delivered its first chunk and waits for the next), the live JS heap after a full GC, divided by
// the stream count. Run with --expose-gc.
import { setTimeout as delay } from 'node:timers/promises';

/** Lets pending callbacks and promise jobs finish, then collects (a few rounds: weak refs, finalizers). */
export async function settle(gc) {
  for (let i = 0; i < 3; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    gc?.();
  }
}

const live = () => process.memoryUsage();

export async function idleHeap(consumer, job) {
  const gc = globalThis.gc;
  if (!gc) throw new Error('idleHeap needs --expose-gc');
  await settle(gc);
  const base = live();
  const controllers = [];
  let opened = 0;
  let allOpen;
  const everyOneOpen = new Promise((resolve) => {
    allOpen = resolve;
  });
  const runs = [];
  for (let i = 0; i < job.streams; i++) {
    const controller = new AbortController();
    controllers.push(controller);
    let first = true;
    // Called on each chunk the consumer hands out (its delivery-delay hook): the first one marks
    // the stream open and idle until the next chunk, `paceMs` later.
    const mine = {
      push() {
        if (!first) return;
        first = false;
        if (++opened === job.streams) allOpen();
      },
    };
    runs.push(
      delay((i * job.rampMs) / job.streams, undefined, { signal: controller.signal })
        .then(() => consumer.stream({ prompt: job.prompt, signal: controller.signal, delays: mine }))
        .then(
          () => 'ended',
          () => 'aborted',
        ),
    );
  }
  const timer = setTimeout(allOpen, job.openTimeoutMs);
  const t0 = performance.now();
  await everyOneOpen;
  clearTimeout(timer);
  const openMs = performance.now() - t0;
  await settle(gc);
  const held = live();
  const probeMs = performance.now() - t0;
  for (const controller of controllers) controller.abort(new Error('heap probe done'));
  const outcomes = await Promise.all(runs);
  const ended = outcomes.filter((o) => o === 'ended').length;
  return {
    streams: job.streams,
    opened,
    openMs,
    probeMs,
    // Streams that ended before the probe was taken would make the figure too small.
    endedEarly: ended,
    heapBytesPerStream: (held.heapUsed - base.heapUsed) / job.streams,
    externalBytesPerStream: (held.external - base.external) / job.streams,
    rssBytesPerStream: (held.rss - base.rss) / job.streams,
  };
}
