// The library scenarios of issue 9: throughput, first token, fan-in and long answers. Each runs its
// consumers interleaved (A B C D, A B C D, …) against one emulator child and keeps every run.
import { emulatorAnswer, tokenize } from '../dist/emulator/index.js';
import { startWorker } from './children.js';
import { MODEL, messagesFor } from './consumers.js';
import { median, medianOf } from './stats.js';

const JOB_TIMEOUT_MS = 120_000;

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

async function withWorker(execArgv, fn) {
  const worker = await startWorker(execArgv);
  try {
    return await fn(worker);
  } finally {
    await worker.close();
  }
}

/** Throughput and first token share warmed workers, one per consumer kind. */
export async function throughputAndFirstToken({ emulator, cfg, kinds, log }) {
  const shape = wordsForChunks(cfg.throughputChunks);
  const ttftShape = wordsForChunks(cfg.ttftChunks);
  const workers = {};
  try {
    for (const kind of kinds) workers[kind] = await startWorker(['--expose-gc']);
    const job = (kind, extra) => ({ kind, base: emulator.glm, timeoutMs: JOB_TIMEOUT_MS, ...extra });

    await emulator.setOptions({ paceMs: 0, words: shape.words, tokensPerChunk: 1, timestamps: false });
    for (let w = 0; w < cfg.warmups; w++) {
      for (const kind of kinds) await workers[kind].call(job(kind, { type: 'throughput' }), JOB_TIMEOUT_MS);
    }
    const runs = Object.fromEntries(kinds.map((k) => [k, []]));
    for (let rep = 0; rep < cfg.reps; rep++) {
      for (const kind of kinds) {
        const r = await workers[kind].call(job(kind, { type: 'throughput' }), JOB_TIMEOUT_MS);
        // The raw reader does not parse, so it is billed per chunk of the same stream.
        const chunks = kind === 'raw' ? shape.chunks : r.chunks;
        if (kind !== 'raw' && r.chunks !== shape.chunks) {
          throw new Error(`${kind}: ${r.chunks} chunks, expected ${shape.chunks}`);
        }
        runs[kind].push({ cpuUsPerChunk: r.cpuUs / chunks, wallMs: r.wallMs, chunks, bytes: r.bytes });
      }
      log(`throughput rep ${rep + 1}/${cfg.reps}`);
    }
    // The same stream right after a forced full GC: V8 has dropped type feedback and optimized code
    // tied to collected objects, so this measures recompilation as much as streaming (informative;
    // the ratios use the steady figures above).
    const coldRuns = Object.fromEntries(kinds.map((k) => [k, []]));
    for (let rep = 0; rep < cfg.reps; rep++) {
      for (const kind of kinds) {
        const r = await workers[kind].call(job(kind, { type: 'throughput', fullGc: true }), JOB_TIMEOUT_MS);
        if (kind !== 'raw' && r.chunks !== shape.chunks) {
          throw new Error(`${kind}: ${r.chunks} chunks after a full GC, expected ${shape.chunks}`);
        }
        coldRuns[kind].push(r.cpuUs / (kind === 'raw' ? shape.chunks : r.chunks));
      }
    }
    log('throughput after full GC done');
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
            afterFullGc: { cpuUsPerChunk: median(coldRuns[k]), runs: coldRuns[k] },
          },
        ]),
      ),
    };

    await emulator.setOptions({ paceMs: 0, words: ttftShape.words });
    const ttftRuns = Object.fromEntries(kinds.map((k) => [k, []]));
    for (let rep = 0; rep < cfg.reps; rep++) {
      for (const kind of kinds) {
        const r = await workers[kind].call(
          job(kind, { type: 'firstToken', n: cfg.ttftRequests }),
          JOB_TIMEOUT_MS,
        );
        ttftRuns[kind].push(median(r.firstMs));
      }
    }
    const firstToken = {
      requestsPerRun: cfg.ttftRequests,
      chunks: ttftShape.chunks,
      consumers: Object.fromEntries(kinds.map((k) => [k, { ms: median(ttftRuns[k]), runs: ttftRuns[k] }])),
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

/** Fan-in: for each stream count, every kind in a fresh (warmed) process per repetition. */
export async function fanIn({ emulator, cfg, kinds, log }) {
  const shape = wordsForChunks(cfg.fanInChunks);
  const warm = wordsForChunks(cfg.warmUpChunks);
  const out = {};
  for (const streams of cfg.fanInStreams) {
    const rampMs = Math.max(cfg.paceMs, streams * cfg.rampMsPerStream);
    const runs = Object.fromEntries(kinds.map((k) => [k, []]));
    for (let rep = 0; rep < cfg.reps; rep++) {
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
