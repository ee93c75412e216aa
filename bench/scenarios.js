// The library scenarios: answer shapes, fan-in and long answers (burst and first token are in
// burst.js, the per-stream heap in heap.js). Each runs its consumers interleaved (A B C D, A B C D,
// …) against one emulator child and keeps every run.
import { emulatorAnswer, tokenize } from '../dist/emulator/index.js';
import { startWorker } from './children.js';
import { MODEL, messagesFor } from './common.js';
import { medianOf } from './stats.js';

export const JOB_TIMEOUT_MS = 120_000;

/** The answer the emulator gives our request at `words`: its chunk count (1 token a chunk) and size. */
export function answerShape(words, prompt = 'bench') {
  const { content } = emulatorAnswer('glm', { model: MODEL, messages: messagesFor(prompt) }, { words });
  const tokens = tokenize(content).length;
  // GLM: one chunk per token, then the finishing chunk with usage; no reasoning for glm-4.5-flash.
  return { words, chunks: tokens + 1, chars: content.length, bytes: Buffer.byteLength(content) };
}

/** The smallest `words` whose answer has at least `chunks` chunks. */
export function wordsForChunks(chunks) {
  let lo = 1;
  let hi = Math.max(2, chunks * 2);
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (answerShape(mid).chunks >= chunks) hi = mid;
    else lo = mid + 1;
  }
  return answerShape(lo);
}

/** About `bytes` of UTF-8 content (answers grow by whole sentences, so within a sentence). */
export function wordsForBytes(bytes) {
  const sample = answerShape(10_000);
  return answerShape(Math.max(1, Math.round((bytes * sample.words) / sample.bytes)));
}

export async function withWorker(execArgv, fn) {
  const worker = await startWorker(execArgv);
  try {
    return await fn(worker);
  } finally {
    await worker.close();
  }
}

/** Fan-in: for each stream count, every kind in a fresh (warmed) process per repetition. */
export async function fanIn({ emulator, cfg, kinds, log }) {
  const shape = wordsForChunks(cfg.fanInChunks);
  const warm = wordsForChunks(cfg.warmUpChunks);
  const out = {};
  for (const streams of cfg.fanInStreams) {
    const rampMs = Math.max(cfg.paceMs, streams * cfg.rampMsPerStream);
    const runs = Object.fromEntries(kinds.map((k) => [k, []]));
    for (let rep = 0; rep < cfg.fanInReps; rep++) {
      for (const kind of kinds) {
        const r = await withWorker([], async (worker) => {
          await emulator.setOptions({ paceMs: 0, words: warm.words, timestamps: true });
          await worker.call(
            { type: 'warmUp', kind, base: emulator.glm, n: cfg.warmUpStreams, timeoutMs: JOB_TIMEOUT_MS },
            JOB_TIMEOUT_MS,
          );
          await emulator.setOptions({ paceMs: cfg.paceMs, words: shape.words, timestamps: true });
          return worker.call(
            {
              type: 'fanIn',
              kind,
              base: emulator.glm,
              streams,
              rampMs,
              expectChunks: shape.chunks,
              timeoutMs: cfg.fanInTimeoutMs,
            },
            cfg.fanInTimeoutMs + 30_000,
          );
        });
        runs[kind].push(r);
        log(
          `fan-in ${streams} ${kind} rep ${rep + 1}: p99 ${r.delay.p99?.toFixed(1)} ms, ` +
            `${r.cpuUsPerChunk?.toFixed(1)} us/chunk, ${r.peakRssMB.toFixed(0)} MB, ${r.errors} errors`,
        );
      }
    }
    out[streams] = {
      streams,
      chunksPerStream: shape.chunks,
      paceMs: cfg.paceMs,
      rampMs,
      consumers: Object.fromEntries(
        kinds.map((k) => {
          const rs = runs[k];
          return [
            k,
            {
              p50Ms: medianOf(rs, (r) => r.delay.p50),
              p99Ms: medianOf(rs, (r) => r.delay.p99),
              maxMs: medianOf(rs, (r) => r.delay.max),
              steadyP99Ms: medianOf(rs, (r) => r.steadyDelay.p99),
              cpuUsPerChunk: medianOf(rs, (r) => r.cpuUsPerChunk),
              peakRssMB: medianOf(rs, (r) => r.peakRssMB),
              errors: rs.reduce((n, r) => n + r.errors, 0),
              runs: rs.map(({ errorSamples, ...r }) => ({ ...r, ...(r.errors ? { errorSamples } : {}) })),
            },
          ];
        }),
      ),
    };
  }
  return out;
}

/** Long answers through the exai path, each in a fresh process: time runs, then GC-probed memory runs. */
export async function longAnswers({ emulator, cfg, log }) {
  const shapes = cfg.longSizesMB.map((mb) => ({ mb, ...wordsForBytes(mb * 2 ** 20) }));
  const time = Object.fromEntries(shapes.map((s) => [s.mb, []]));
  const memory = Object.fromEntries(shapes.map((s) => [s.mb, []]));
  const run = async (shape, mode) => {
    await emulator.setOptions({ paceMs: 0, words: shape.words, tokensPerChunk: 1, timestamps: false });
    return withWorker(mode === 'memory' ? ['--expose-gc'] : [], (worker) =>
      worker.call(
        {
          type: 'longAnswer',
          mode,
          base: emulator.glm,
          expectChunks: shape.chunks,
          timeoutMs: JOB_TIMEOUT_MS,
        },
        JOB_TIMEOUT_MS + 10_000,
      ),
    );
  };
  for (let rep = 0; rep < cfg.longReps; rep++) {
    for (const shape of shapes) {
      const r = await run(shape, 'time');
      if (r.chunks !== shape.chunks || r.chars !== shape.chars) {
        throw new Error(
          `long ${shape.mb} MB: got ${r.chunks} chunks/${r.chars} chars, expected ${shape.chunks}`,
        );
      }
      time[shape.mb].push(r);
    }
    log(`long answer rep ${rep + 1}/${cfg.longReps}`);
  }
  for (let rep = 0; rep < cfg.longMemoryReps; rep++) {
    for (const shape of shapes) memory[shape.mb].push(await run(shape, 'memory'));
  }
  return shapes.map((s) => ({
    sizeMB: s.mb,
    bytes: s.bytes,
    chars: s.chars,
    chunks: s.chunks,
    wallMs: medianOf(time[s.mb], (r) => r.wallMs),
    cpuMs: medianOf(time[s.mb], (r) => r.cpuUs / 1000),
    rssGrowthMB: medianOf(time[s.mb], (r) => r.rssGrowthBytes / 2 ** 20),
    heapGrowthMB: medianOf(time[s.mb], (r) => r.heapGrowthBytes / 2 ** 20),
    peakLiveMB: medianOf(memory[s.mb], (r) => r.peakLiveBytes / 2 ** 20),
    leftAfterMB: medianOf(memory[s.mb], (r) => r.leftBytes / 2 ** 20),
    timeRuns: time[s.mb].map(({ wallMs, cpuUs, rssGrowthBytes, heapGrowthBytes }) => ({
      wallMs,
      cpuUs,
      rssGrowthBytes,
      heapGrowthBytes,
    })),
    memoryRuns: memory[s.mb].map(({ probes, leftBytes }) => ({ probes, leftBytes })),
  }));
}
