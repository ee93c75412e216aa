// A measuring child process: runs one consumer kind against the emulator and reports figures over
// IPC. Messages {id, job} → {id, ok, result | error}. CPU comes from process.cpuUsage() deltas
// taken here, so neither the emulator nor the orchestrator is counted.
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { getHeapStatistics } from 'node:v8';
import { createConsumer } from './consumers.js';
import { idleHeap, settle } from './heap-job.js';
import { summarize } from './stats.js';

let consumer;
let consumerKey = '';

async function consumerFor(kind, base) {
  const key = `${kind} ${base}`;
  if (consumerKey !== key) {
    consumer?.close();
    consumer = await createConsumer(kind, base);
    consumerKey = key;
  }
  return consumer;
}

const cpuUs = (since) => {
  const d = process.cpuUsage(since);
  return d.user + d.system;
};

/** One unpaced stream: consumer CPU and wall time. */
async function throughput(job) {
  const c = await consumerFor(job.kind, job.base);
  // Each repetition starts from a collected young generation, so one run's garbage is not billed to
  // the next. A minor GC, not a full one: a full GC also drops the JIT's type feedback and optimized
  // code that point at collected objects, and every repetition would then measure recompilation
  // (job.fullGc keeps that variant, reported beside the steady figures).
  if (job.fullGc) globalThis.gc?.();
  else globalThis.gc?.({ type: 'minor' });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await c.stream({ signal: AbortSignal.timeout(job.timeoutMs) });
  return { ...r, cpuUs: cpuUs(cpu0), wallMs: performance.now() - t0 };
}

/** `n` short streams one after another: request start → first content delta, each. */
async function firstToken(job) {
  const c = await consumerFor(job.kind, job.base);
  const firstMs = [];
  for (let i = 0; i < job.n; i++) {
    const r = await c.stream({ signal: AbortSignal.timeout(job.timeoutMs) });
    firstMs.push(r.firstMs);
  }
  return { firstMs };
}

/** A few unpaced streams first, so a fresh process measures warmed-up code, as a long-lived server would. */
async function warmUp(job) {
  const c = await consumerFor(job.kind, job.base);
  for (let i = 0; i < job.n; i++) await c.stream({ signal: AbortSignal.timeout(job.timeoutMs) });
  return {};
}

/**
 * `streams` concurrent paced streams, started evenly over `rampMs`: delivery delays (all chunks,
 * and steady state = chunks received after every stream delivered its first chunk), consumer CPU
 * per chunk, peak RSS (the kernel's high-water mark for this fresh process) and errors.
 */
async function fanIn(job) {
  const c = await consumerFor(job.kind, job.base);
  const delays = [];
  let steadyFrom = -1;
  let started = 0;
  // One controller per stream: a signal shared by 1,000 requests makes every addEventListener scan them all.
  const controllers = [];
  const deadline = setTimeout(() => {
    for (const controller of controllers) controller.abort(new Error('fan-in deadline'));
  }, job.timeoutMs);
  let errors = 0;
  let short = 0;
  // Chunks of completed streams (what the consumer counted); delays also count those of failed ones.
  let received = 0;
  const errorSamples = new Set();
  const rssBefore = process.memoryUsage.rss();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const runs = [];
  for (let i = 0; i < job.streams; i++) {
    const controller = new AbortController();
    controllers.push(controller);
    const start = (i * job.rampMs) / job.streams;
    let first = true;
    const mine = {
      push(d) {
        delays.push(d);
        if (first) {
          first = false;
          if (++started === job.streams) steadyFrom = delays.length;
        }
      },
    };
    runs.push(
      delay(start, undefined, { signal: controller.signal })
        .then(() => c.stream({ prompt: job.prompt, signal: controller.signal, delays: mine }))
        .then(
          (r) => {
            received += r.chunks;
            if (r.chunks !== job.expectChunks) short++;
          },
          (error) => {
            errors++;
            if (errorSamples.size < 3) errorSamples.add(String(error?.message ?? error).slice(0, 160));
          },
        ),
    );
  }
  await Promise.all(runs);
  const wallMs = performance.now() - t0;
  const cpu = cpuUs(cpu0);
  clearTimeout(deadline);
  const chunks = Math.max(delays.length, received);
  return {
    streams: job.streams,
    chunks,
    delay: summarize(delays),
    steadyDelay: summarize(steadyFrom < 0 ? [] : delays.slice(steadyFrom)),
    cpuUs: cpu,
    cpuUsPerChunk: chunks ? cpu / chunks : null,
    wallMs,
    rssBeforeMB: rssBefore / 2 ** 20,
    peakRssMB: (process.resourceUsage().maxRSS * 1024) / 2 ** 20,
    errors: errors + short,
    failed: errors,
    short,
    errorSamples: [...errorSamples],
  };
}

/**
 * One long answer through the exai path in a fresh process. mode 'time': wall/CPU time, peak RSS
 * growth (kernel high-water mark) and peak heap growth (sampled). mode 'memory' (--expose-gc): the
 * same answer once unmeasured (so compiled code is not counted), then the live heap (after a full
 * GC; JS heap) at 25/50/75 % of the chunks, on the finishing chunk and with the final result in hand, and
 * what is left once the result is dropped (a leak check).
 */
async function longAnswer(job) {
  const c = await consumerFor('exai', job.base);
  const gc = globalThis.gc;
  const memory = job.mode === 'memory' && gc;
  // The JS heap after a full GC. Network buffers (external memory) are left out: they are bounded
  // by the stream's high-water marks, not by the answer, and are freed by a concurrent sweeper, so a
  // probe sees anything from 0 to several MB of them at random.
  const live = () => process.memoryUsage().heapUsed;
  if (memory) await c.stream({ signal: AbortSignal.timeout(job.timeoutMs) });
  await settle(gc);
  const baseLive = live();
  const baseRss = process.memoryUsage.rss();
  // Heap sampling via v8 statistics (cheap); RSS peak from the kernel's high-water mark.
  const baseHeap = getHeapStatistics().used_heap_size;
  let peakHeap = baseHeap;
  const sampler = setInterval(() => {
    peakHeap = Math.max(peakHeap, getHeapStatistics().used_heap_size);
  }, 10);
  const probes = [];
  const probe = (at) => {
    gc();
    probes.push({ at, liveBytes: live() - baseLive, externalBytes: process.memoryUsage().external });
  };
  const checkpoints = new Set([1, 2, 3].map((q) => Math.floor((q * job.expectChunks) / 4)));
  const onChunk = memory
    ? (chunk, n) => {
        if (checkpoints.has(n) || chunk.choices[0]?.finish_reason) probe(`chunk ${n}`);
      }
    : undefined;
  const onResult = memory ? () => probe('result in hand') : undefined;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const r = await c.stream({ signal: AbortSignal.timeout(job.timeoutMs), onChunk, onResult });
  const wallMs = performance.now() - t0;
  const cpu = cpuUs(cpu0);
  clearInterval(sampler);
  let leftBytes = null;
  if (memory) {
    await settle(gc);
    leftBytes = live() - baseLive;
  }
  return {
    ...r,
    wallMs,
    cpuUs: cpu,
    rssGrowthBytes: process.resourceUsage().maxRSS * 1024 - baseRss,
    heapGrowthBytes: peakHeap - baseHeap,
    probes,
    peakLiveBytes: probes.length ? Math.max(...probes.map((p) => p.liveBytes)) : null,
    leftBytes,
  };
}

/** Open, idle-paced streams: live heap per stream (bench/heap-job.js). */
async function heap(job) {
  return idleHeap(await consumerFor(job.kind, job.base), job);
}

const JOBS = { warmUp, throughput, firstToken, fanIn, longAnswer, heap };

process.on('message', async ({ id, job }) => {
  if (job.type === 'exit') {
    consumer?.close();
    process.exit(0);
  }
  try {
    const run = JOBS[job.type];
    if (!run) throw new Error(`unknown job ${job.type}`);
    process.send({ id, ok: true, result: await run(job) });
  } catch (error) {
    process.send({ id, ok: false, error: String(error?.stack ?? error) });
  }
});
// The orchestrator going away ends this worker too.
process.on('disconnect', () => process.exit(0));
process.send({ ready: true });
