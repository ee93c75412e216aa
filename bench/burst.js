// Burst (one unpaced stream: CPU per chunk) and first token, with warmed workers, one per consumer
// kind, run interleaved (A B C D, A B C D, …): the bursts stream by stream, the first tokens
// request by request. The same code runs the Node 24 sub-run of the AI SDK.
import { startWorker } from './children.js';
import { JOB_TIMEOUT_MS, withWorker, wordsForChunks } from './scenarios.js';
import { median, medianOf } from './stats.js';

/** Kinds that do not count wire chunks (raw reads bytes, the AI SDK hands out text deltas). */
const PER_WIRE_CHUNK = new Set(['raw', 'aisdk']);

/**
 * `{ throughput, firstToken }` for `kinds`. Options: `execPath` (another Node: the Node 24 run),
 * `afterFullGc` (also the burst right after a forced full GC), `firstToken` (also first token).
 */
export async function throughputAndFirstToken({ emulator, cfg, kinds, log, ...opts }) {
  const { execPath = process.execPath, afterFullGc = true, firstToken: withFirstToken = true } = opts;
  const shape = wordsForChunks(cfg.throughputChunks);
  const ttftShape = wordsForChunks(cfg.ttftChunks);
  const workers = {};
  try {
    for (const kind of kinds) workers[kind] = await startWorker(['--expose-gc'], execPath);
    const job = (kind, extra) => ({ kind, base: emulator.glm, timeoutMs: JOB_TIMEOUT_MS, ...extra });
    const burst = async (kind, fullGc) => {
      const r = await workers[kind].call(job(kind, { type: 'throughput', fullGc }), JOB_TIMEOUT_MS);
      if (!PER_WIRE_CHUNK.has(kind) && r.chunks !== shape.chunks) {
        throw new Error(
          `${kind}: ${r.chunks} chunks${fullGc ? ' after a full GC' : ''}, expected ${shape.chunks}`,
        );
      }
      if (r.chars !== undefined && kind !== 'raw' && r.chars !== shape.chars) {
        throw new Error(`${kind}: ${r.chars} chars, expected ${shape.chars}`);
      }
      // Every consumer is billed per wire chunk of the same stream.
      return { cpuUsPerChunk: r.cpuUs / shape.chunks, wallMs: r.wallMs, chunks: r.chunks, bytes: r.bytes };
    };

    await emulator.setOptions({ paceMs: 0, words: shape.words, tokensPerChunk: 1, timestamps: false });
    for (let w = 0; w < cfg.warmups; w++) for (const kind of kinds) await burst(kind, false);
    const runs = Object.fromEntries(kinds.map((k) => [k, []]));
    for (let rep = 0; rep < cfg.reps; rep++) {
      for (const kind of kinds) runs[kind].push(await burst(kind, false));
      log(`burst rep ${rep + 1}/${cfg.reps}${execPath === process.execPath ? '' : ' (node 24)'}`);
    }
    // The same stream right after a forced full GC: V8 has dropped type feedback and optimized code
    // tied to collected objects, so this measures recompilation as much as streaming (informative;
    // the ratios use the steady figures above).
    const coldRuns = Object.fromEntries(kinds.map((k) => [k, []]));
    if (afterFullGc) {
      for (let rep = 0; rep < cfg.reps; rep++) {
        for (const kind of kinds) coldRuns[kind].push((await burst(kind, true)).cpuUsPerChunk);
      }
      log('burst after full GC done');
    }
    const throughput = {
      chunks: shape.chunks,
      contentChars: shape.chars,
      charsPerChunk: shape.chars / (shape.chunks - 1),
      wireBytes: runs.raw?.[0]?.bytes ?? null,
      consumers: Object.fromEntries(
        kinds.map((k) => [
          k,
          {
            cpuUsPerChunk: medianOf(runs[k], (r) => r.cpuUsPerChunk),
            wallMs: medianOf(runs[k], (r) => r.wallMs),
            runs: runs[k],
            ...(afterFullGc
              ? { afterFullGc: { cpuUsPerChunk: median(coldRuns[k]), runs: coldRuns[k] } }
              : {}),
          },
        ]),
      ),
    };
    if (!withFirstToken) return { throughput };

    // Kinds take turns request by request (A B C D E, A B C D E, …): a change in the machine's
    // state during the run reaches every kind alike, where batches of requests per kind let it fall
    // on one kind's batch. A kind's figure is the median of all its requests.
    await emulator.setOptions({ paceMs: 0, words: ttftShape.words });
    const firstMs = async (kind) =>
      (await workers[kind].call(job(kind, { type: 'firstToken', n: 1 }), JOB_TIMEOUT_MS)).firstMs[0];
    for (let w = 0; w < cfg.warmups; w++) for (const kind of kinds) await firstMs(kind);
    const ttftAll = Object.fromEntries(kinds.map((k) => [k, []]));
    for (let round = 0; round < cfg.reps * cfg.ttftRequests; round++) {
      for (const kind of kinds) ttftAll[kind].push(await firstMs(kind));
    }
    // The spread shown beside the figure: the medians of consecutive runs of `ttftRequests` rounds.
    const runsOf = (all) =>
      Array.from({ length: cfg.reps }, (_, r) =>
        median(all.slice(r * cfg.ttftRequests, (r + 1) * cfg.ttftRequests)),
      );
    const firstToken = {
      requestsPerRun: cfg.ttftRequests,
      requests: cfg.reps * cfg.ttftRequests,
      interleaved: 'per request',
      chunks: ttftShape.chunks,
      consumers: Object.fromEntries(
        kinds.map((k) => [k, { ms: median(ttftAll[k]), runs: runsOf(ttftAll[k]) }]),
      ),
    };
    log('first token done');
    return { throughput, firstToken };
  } finally {
    await Promise.all(Object.values(workers).map((w) => w.close()));
  }
}

/** `node --cpu-prof` of one consumer kind on the throughput stream; returns the profile's path. */
export async function profileThroughput({ emulator, cfg, kind, dir }) {
  const shape = wordsForChunks(cfg.throughputChunks);
  const name = `${kind}-throughput.cpuprofile`;
  await emulator.setOptions({ paceMs: 0, words: shape.words, tokensPerChunk: 1, timestamps: false });
  const flags = ['--cpu-prof', '--cpu-prof-interval', '200', '--cpu-prof-dir', dir, '--cpu-prof-name', name];
  await withWorker(flags, async (worker) => {
    // Enough streams that module loading and JIT warm-up are a small share of the profile.
    for (let i = 0; i < cfg.profileStreams; i++) {
      await worker.call(
        { type: 'throughput', kind, base: emulator.glm, timeoutMs: JOB_TIMEOUT_MS },
        JOB_TIMEOUT_MS,
      );
    }
  });
  return `${dir}/${name}`;
}
