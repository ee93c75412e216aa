// MCP relay: the built `exai serve` (stdio) driven by the SDK v2 client. Measures, per content
// token, the delay from the emulator writing it to the progress notification that carried it
// reaching the client; the server's CPU per relayed token (from /proc, all its threads); and the
// tokens/s one server sustains unpaced. The library path at the same shape is the CPU baseline.
import { existsSync } from 'node:fs';
import { startWorker } from './children.js';
import { callChat, connect, processCpuUs } from './mcp-client.js';
import { answerShape, wordsForChunks } from './scenarios.js';
import { median, medianOf, summarize } from './stats.js';

const CALL_TIMEOUT_MS = 120_000;

/** Σ cost / Σ count over runs: CPU per token pooled, so one run's garbage collection is not dropped as an outlier. */
const pooled = (runs, cost, count) => {
  const n = runs.reduce((s, r) => s + count(r), 0);
  return n ? runs.reduce((s, r) => s + cost(r), 0) / n : null;
};

/** Per token: receipt of the first notification whose text reaches its end − its emulator send time. */
function relayDelays(marks, notes, out) {
  let j = 0;
  let missing = 0;
  for (let i = 0; i < marks.length; i += 2) {
    while (j < notes.length && notes[j] < marks[i]) j += 2;
    if (j >= notes.length) missing++;
    else out.push(notes[j + 1] - marks[i + 1]);
  }
  return missing;
}

/** `calls` concurrent chat calls, paced upstream: token delays, notifications, server CPU per token. */
export async function pacedRun(conn, emulator, calls, tag) {
  await emulator.record(true);
  const prompts = Array.from({ length: calls }, (_, i) => `bench relay ${tag} ${i}`);
  const cpu0 = processCpuUs(conn.pid);
  const t0 = performance.now();
  const texts = await Promise.all(prompts.map((p) => callChat(conn, p)));
  const wallMs = performance.now() - t0;
  const cpu1 = processCpuUs(conn.pid);
  const entries = await emulator.log();
  await emulator.record(false);
  const delays = [];
  let tokens = 0;
  let notifications = 0;
  let missing = 0;
  let unmatched = 0;
  prompts.forEach((prompt, i) => {
    const entry = entries.find((e) => e.content === texts[i]);
    if (!entry) {
      unmatched++;
      return;
    }
    const notes = conn.wire.notesFor(prompt);
    tokens += entry.marks.length / 2;
    notifications += notes.length / 2;
    missing += relayDelays(entry.marks, notes, delays);
  });
  const serverCpuUs = cpu0 === null || cpu1 === null ? null : cpu1 - cpu0;
  return {
    calls,
    tokens,
    notifications,
    delay: summarize(delays),
    missing,
    unmatched,
    wallMs,
    serverCpuUs,
    serverCpuUsPerToken: serverCpuUs === null || tokens === 0 ? null : serverCpuUs / tokens,
  };
}

/** `calls` concurrent unpaced calls of `shape` words each: the relay's sustained tokens/s. */
async function bulkRun(conn, emulator, calls, words, tag) {
  const prompts = Array.from({ length: calls }, (_, i) => `bench bulk ${tag} ${i}`);
  const tokens = prompts.reduce((n, p) => n + answerShape(words, p).chunks - 1, 0);
  const cpu0 = processCpuUs(conn.pid);
  const emu0 = processCpuUs(emulator.pid);
  const t0 = performance.now();
  await Promise.all(prompts.map((p) => callChat(conn, p)));
  const wallMs = performance.now() - t0;
  const serverCpuUs = processCpuUs(conn.pid) - cpu0;
  const emulatorCpuUs = processCpuUs(emulator.pid) - emu0;
  return {
    calls,
    tokens,
    wallMs,
    tokensPerSecond: tokens / (wallMs / 1000),
    serverCpuUs,
    serverCpuUsPerToken: serverCpuUs / tokens,
    serverBusy: serverCpuUs / 1000 / wallMs,
    emulatorBusy: emulatorCpuUs / 1000 / wallMs,
  };
}

/** The server under `node --cpu-prof` for a warm-up and two paced runs at the largest call count. */
export async function profileMcpServer({ emulator, cfg, cli, dir }) {
  if (!existsSync(new URL('../dist/mcp/index.js', import.meta.url))) return null;
  const name = 'mcp-server.cpuprofile';
  const conn = await connect(emulator, cfg.mcpWindowMs, cli, [
    '--cpu-prof',
    '--cpu-prof-interval',
    '200',
    '--cpu-prof-dir',
    dir,
    '--cpu-prof-name',
    name,
  ]);
  try {
    const shape = wordsForChunks(cfg.mcpChunks);
    const calls = cfg.mcpCalls.at(-1);
    // A short unpaced warm-up (answers as long as the paced ones), so the profile is mostly the
    // paced relay it is meant to explain rather than a bulk transfer.
    await emulator.setOptions({ paceMs: 0, words: shape.words, timestamps: true });
    for (let rep = 0; rep < 3; rep++) {
      await Promise.all(Array.from({ length: calls }, (_, i) => callChat(conn, `bench warm ${rep} ${i}`)));
    }
    await emulator.setOptions({ paceMs: cfg.paceMs, words: shape.words, timestamps: true });
    for (let rep = 0; rep < 4; rep++) await pacedRun(conn, emulator, calls, `profile ${rep}`);
  } finally {
    await conn.close();
  }
  return `${dir}/${name}`;
}

const unavailable = (note) => ({ available: false, note, windowMs: null, runs: null, summary: null });

export async function mcpRelay({ emulator, cfg, cli, log }) {
  if (!existsSync(cli) || !existsSync(new URL('../dist/mcp/index.js', import.meta.url))) {
    return unavailable('dist/mcp is not built: the MCP server is not there yet');
  }
  const windowMs = cfg.mcpWindowMs;
  const shape = wordsForChunks(cfg.mcpChunks);
  const warm = wordsForChunks(cfg.warmUpChunks);
  const bulk = wordsForChunks(cfg.mcpBulkChunks);
  let conn;
  let library;
  try {
    conn = await connect(emulator, windowMs, cli);
    library = await startWorker([]);
    // Warm the server and the library worker the same way (JIT, heap sizing) before measuring, as a
    // long-lived server is: the same concurrent unpaced calls, then one paced round each (below).
    const concurrent = cfg.mcpCalls.at(-1);
    await emulator.setOptions({ paceMs: 0, words: warm.words, tokensPerChunk: 1, timestamps: true });
    for (let round = 0; round < cfg.mcpWarmRounds; round++) {
      await Promise.all(Array.from({ length: concurrent }, (_, i) => callChat(conn, `bench warm ${i}`)));
      await library.call(
        {
          type: 'fanIn',
          kind: 'exai',
          base: emulator.glm,
          streams: concurrent,
          rampMs: 0,
          expectChunks: warm.chunks,
          timeoutMs: CALL_TIMEOUT_MS,
        },
        CALL_TIMEOUT_MS + 10_000,
      );
    }

    await emulator.setOptions({ paceMs: cfg.paceMs, words: shape.words, timestamps: true });
    const runs = Object.fromEntries([...cfg.mcpCalls.map((n) => [n, []]), ['library', []]]);
    const libraryStreams = cfg.mcpCalls.at(-1);
    const libraryJob = {
      type: 'fanIn',
      kind: 'exai',
      base: emulator.glm,
      streams: libraryStreams,
      rampMs: 0,
      expectChunks: shape.chunks,
      timeoutMs: CALL_TIMEOUT_MS,
    };
    // One untimed paced round each: the paced path (one chunk a read) has code and heap sizing of its own.
    await pacedRun(conn, emulator, libraryStreams, 'warm');
    await library.call(libraryJob, CALL_TIMEOUT_MS + 10_000);
    for (let rep = 0; rep < cfg.reps; rep++) {
      for (const calls of cfg.mcpCalls) runs[calls].push(await pacedRun(conn, emulator, calls, `${rep}`));
      const lib = await library.call(libraryJob, CALL_TIMEOUT_MS + 10_000);
      const tokens = lib.chunks - lib.streams;
      runs.library.push({
        streams: lib.streams,
        tokens,
        cpuUs: lib.cpuUs,
        cpuUsPerToken: lib.cpuUs / tokens,
        errors: lib.errors,
      });
      log(`mcp relay rep ${rep + 1}/${cfg.reps}`);
    }

    await emulator.setOptions({ paceMs: 0, words: bulk.words, timestamps: false });
    const bulkRuns = [];
    const bulkLibrary = [];
    for (let rep = 0; rep < cfg.mcpBulkReps; rep++) {
      bulkRuns.push(await bulkRun(conn, emulator, cfg.mcpBulkCalls, bulk.words, `${rep}`));
      // The library path at the same shape: as many concurrent unpaced streams of the same length.
      const lib = await library.call(
        { ...libraryJob, streams: cfg.mcpBulkCalls, expectChunks: bulk.chunks },
        CALL_TIMEOUT_MS + 10_000,
      );
      bulkLibrary.push({
        tokens: lib.chunks - lib.streams,
        cpuUs: lib.cpuUs,
        wallMs: lib.wallMs,
        errors: lib.errors,
      });
    }

    const perCalls = Object.fromEntries(
      cfg.mcpCalls.map((n) => [
        n,
        {
          calls: n,
          p50Ms: medianOf(runs[n], (r) => r.delay.p50),
          p99Ms: medianOf(runs[n], (r) => r.delay.p99),
          maxMs: medianOf(runs[n], (r) => r.delay.max),
          tokensPerNotification: medianOf(runs[n], (r) => r.tokens / r.notifications),
          serverCpuUsPerToken: pooled(
            runs[n],
            (r) => r.serverCpuUs,
            (r) => r.tokens,
          ),
          missing: runs[n].reduce((s, r) => s + r.missing + r.unmatched, 0),
        },
      ]),
    );
    return {
      available: true,
      note: null,
      windowMs,
      tokensPerCall: shape.chunks - 1,
      paceMs: cfg.paceMs,
      summary: {
        calls: perCalls,
        libraryCpuUsPerToken: pooled(
          runs.library,
          (r) => r.cpuUs,
          (r) => r.tokens,
        ),
        libraryStreams,
        bulk: {
          calls: cfg.mcpBulkCalls,
          tokensPerCall: bulk.chunks - 1,
          tokensPerSecond: medianOf(bulkRuns, (r) => r.tokensPerSecond),
          serverCpuUsPerToken: pooled(
            bulkRuns,
            (r) => r.serverCpuUs,
            (r) => r.tokens,
          ),
          libraryCpuUsPerToken: pooled(
            bulkLibrary,
            (r) => r.cpuUs,
            (r) => r.tokens,
          ),
          libraryTokensPerSecond: medianOf(bulkLibrary, (r) => r.tokens / (r.wallMs / 1000)),
          serverBusy: median(bulkRuns.map((r) => r.serverBusy)),
          emulatorBusy: median(bulkRuns.map((r) => r.emulatorBusy)),
        },
      },
      runs: { ...runs, bulk: bulkRuns, bulkLibrary },
    };
  } catch (error) {
    const detail = conn ? ` (server stderr: ${conn.stderr().trim().slice(-300)})` : '';
    return unavailable(`MCP relay failed: ${String(error?.message ?? error).slice(0, 300)}${detail}`);
  } finally {
    await library?.close();
    await conn?.close();
  }
}
