// The worker side of the per-stream heap figure: `streams` open, idle-paced streams (each has
// delivered its first chunk and waits for the next), the live JS heap after a full GC, divided by
// the stream count. Run with --expose-gc.
//
// The streams are opened in two halves, the first still open while the second opens, and the
// figure is what the second half added, per stream: the first streams at that scale make V8
// compile code that a few warm-up streams one after another never reach (new connections, the
// timer and socket paths at scale), paid once: 0.6-0.75 KB per stream of code, feedback and deopt
// data in heap snapshots of 1,000 streams on this host, and 0.2-0.7 KB per stream more in the
// first half than in the second, depending on the consumer. Opened in quarters, the last three
// cost the same as the second half. (Opening and closing them first would not do: node keeps up
// to 1,000 closed connections' HTTP parsers for reuse, so a second opening would not pay for its
// own.) The figure of all streams against none, compiled code included, is reported beside it.
import { setTimeout as delay } from 'node:timers/promises';

/** Lets pending callbacks and promise jobs finish, then collects (a few rounds: weak refs, finalizers). */
export async function settle(gc) {
  for (let i = 0; i < 3; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    gc?.();
  }
}

const live = () => process.memoryUsage();

/** Opens `job.streams` streams over `job.rampMs`; resolves once each delivered its first chunk (or at the timeout). */
async function openIdle(consumer, job) {
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
  return {
    opened,
    openMs: performance.now() - t0,
    t0,
    /** Closes every stream; resolves with how many had ended on their own. */
    async close() {
      for (const controller of controllers) controller.abort(new Error('heap probe done'));
      const outcomes = await Promise.all(runs);
      return outcomes.filter((o) => o === 'ended').length;
    },
  };
}

export async function idleHeap(consumer, job) {
  const gc = globalThis.gc;
  if (!gc) throw new Error('idleHeap needs --expose-gc');
  const half = Math.floor(job.streams / 2);
  const halfJob = { ...job, streams: half, rampMs: job.rampMs / 2 };
  await settle(gc);
  const base = live();
  const first = await openIdle(consumer, halfJob);
  await settle(gc);
  const middle = live();
  const second = await openIdle(consumer, { ...halfJob, streams: job.streams - half });
  await settle(gc);
  const held = live();
  const probeMs = performance.now() - first.t0;
  const ended = (await first.close()) + (await second.close());
  const added = job.streams - half;
  return {
    streams: job.streams,
    opened: first.opened + second.opened,
    openMs: first.openMs + second.openMs,
    probeMs,
    // Streams that ended before the probe was taken would make the figure too small.
    endedEarly: ended,
    heapBytesPerStream: (held.heapUsed - middle.heapUsed) / added,
    externalBytesPerStream: (held.external - middle.external) / added,
    rssBytesPerStream: (held.rss - middle.rss) / added,
    // Every stream against the heap before any: the compiled code included.
    allBytesPerStream: (held.heapUsed - base.heapUsed) / job.streams,
    firstHalfBytesPerStream: (middle.heapUsed - base.heapUsed) / half,
  };
}
