// The per-stream heap figure: in a fresh process per kind and repetition (warmed with a few unpaced
// streams), `streams` idle-paced streams are opened in two halves; once each has delivered its
// first chunk, the live JS heap after a full GC that the second half added is divided by its
// stream count (the first half pays for the code compiled at that scale: bench/heap-job.js).
import { JOB_TIMEOUT_MS, withWorker, wordsForChunks } from './scenarios.js';
import { medianOf } from './stats.js';

export async function heapPerStream({ emulator, cfg, kinds, log }) {
  const warm = wordsForChunks(cfg.warmUpChunks);
  // A few chunks a stream, far apart: after the first one every stream sits idle until the probe is done.
  const idle = wordsForChunks(4);
  const runs = Object.fromEntries(kinds.map((k) => [k, []]));
  for (let rep = 0; rep < cfg.heapReps; rep++) {
    for (const kind of kinds) {
      const r = await withWorker(['--expose-gc'], async (worker) => {
        await emulator.setOptions({ paceMs: 0, words: warm.words, timestamps: true });
        await worker.call(
          { type: 'warmUp', kind, base: emulator.glm, n: cfg.warmUpStreams, timeoutMs: JOB_TIMEOUT_MS },
          JOB_TIMEOUT_MS,
        );
        await emulator.setOptions({ paceMs: cfg.heapIdlePaceMs, words: idle.words, timestamps: true });
        const job = {
          type: 'heap',
          kind,
          base: emulator.glm,
          streams: cfg.heapStreams,
          rampMs: cfg.heapStreams * cfg.rampMsPerStream,
          openTimeoutMs: cfg.heapIdlePaceMs / 2,
        };
        return worker.call(job, cfg.heapIdlePaceMs + JOB_TIMEOUT_MS);
      });
      if (r.opened !== r.streams || r.endedEarly > 0 || r.probeMs >= cfg.heapIdlePaceMs) {
        throw new Error(
          `heap ${kind}: ${r.opened}/${r.streams} open, ${r.endedEarly} ended, probe at ${r.probeMs} ms`,
        );
      }
      runs[kind].push(r);
      log(
        `heap ${kind} rep ${rep + 1}: ${(r.heapBytesPerStream / 1024).toFixed(2)} KB/stream ` +
          `(all ${r.streams} against none: ${(r.allBytesPerStream / 1024).toFixed(2)})`,
      );
    }
  }
  return {
    streams: cfg.heapStreams,
    idlePaceMs: cfg.heapIdlePaceMs,
    consumers: Object.fromEntries(
      kinds.map((k) => [
        k,
        {
          heapKBPerStream: medianOf(runs[k], (r) => r.heapBytesPerStream / 1024),
          externalKBPerStream: medianOf(runs[k], (r) => r.externalBytesPerStream / 1024),
          rssKBPerStream: medianOf(runs[k], (r) => r.rssBytesPerStream / 1024),
          allKBPerStream: medianOf(runs[k], (r) => r.allBytesPerStream / 1024),
          firstHalfKBPerStream: medianOf(runs[k], (r) => r.firstHalfBytesPerStream / 1024),
          runs: runs[k],
        },
      ]),
    ),
  };
}
