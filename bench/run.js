// `npm run bench`: the issue-20 benchmarks of exai against baselines measured in the same run (raw
// node:http bytes, a bare `\n\n` splitter, eventsource-parser, openai-node 6 and, on Node 24, the
// Vercel AI SDK), on the emulator in a child process, each consumer in a process of its own. Prints
// markdown tables and writes the same figures, with the `ratios` object, to the git-ignored
// bench/results/latest.json.
//   --quick        fewer repetitions and smaller sizes (a smoke check, < 50 s)
//   --profile      also write bench/results/{exai,lines}-throughput.cpuprofile and
//                  mcp-server.cpuprofile (`node --cpu-prof`) and summarise them
//   --reps N       repetitions (default 5, quick 2)
//   --only a,b     run only some scenarios: throughput, node24, fanin, heap, long, mcp, startup
// EXAI_BENCH_DIST=<dir> measures another build of the library (A/B of a proposed change).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { profileThroughput, throughputAndFirstToken } from './burst.js';
import { killAll, startEmulatorChild } from './children.js';
import { KINDS } from './consumers.js';
import { heapPerStream } from './heap.js';
import { markdown } from './markdown.js';
import { mcpRelay, profileMcpServer } from './mcp.js';
import { node24Run } from './node24.js';
import { summarizeByFile, summarizeProfile } from './profile.js';
import { computeExtras, computeRatios, judge } from './report.js';
import { fanIn, longAnswers } from './scenarios.js';
import { startupCost } from './startup.js';
import { round } from './stats.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const RESULTS = fileURLToPath(new URL('./results', import.meta.url));
const CLI = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    profile: { type: 'boolean', default: false },
    reps: { type: 'string' },
    only: { type: 'string' },
  },
});

const FULL = {
  reps: 5,
  warmups: 6,
  throughputChunks: 10_000,
  ttftChunks: 30,
  ttftRequests: 20,
  paceMs: 20,
  fanInStreams: [200, 1000],
  fanInKinds: ['lines', 'parser', 'openai', 'exai'],
  fanInReps: 5,
  fanInChunks: 60,
  rampMsPerStream: 0.2,
  fanInTimeoutMs: 60_000,
  warmUpChunks: 2_000,
  warmUpStreams: 5,
  longSizesMB: [0.5, 1, 2],
  longReps: 5,
  longMemoryReps: 2,
  mcpWindowMs: 100,
  mcpCalls: [1, 20],
  mcpChunks: 150,
  mcpBulkCalls: 20,
  mcpBulkChunks: 5_000,
  mcpBulkReps: 3,
  mcpWarmRounds: 3,
  profileStreams: 12,
  heapStreams: 1000,
  heapIdlePaceMs: 10_000,
  heapReps: 5,
  startupReps: 9,
};

const QUICK = {
  ...FULL,
  reps: 2,
  warmups: 3,
  throughputChunks: 5_000,
  ttftRequests: 10,
  fanInChunks: 20,
  fanInTimeoutMs: 20_000,
  warmUpChunks: 1_000,
  warmUpStreams: 3,
  longSizesMB: [0.125, 0.25, 0.5],
  longReps: 1,
  longMemoryReps: 1,
  mcpChunks: 40,
  mcpBulkChunks: 1_000,
  mcpBulkReps: 1,
  mcpWarmRounds: 1,
  profileStreams: 6,
  fanInKinds: ['lines', 'exai'],
  fanInReps: 1,
  heapReps: 1,
  startupReps: 3,
};

const cfg = { ...(args.quick ? QUICK : FULL) };
if (args.reps) {
  cfg.reps = Math.max(1, Number.parseInt(args.reps, 10) || cfg.reps);
  cfg.longReps = cfg.reps;
  cfg.fanInReps = cfg.reps;
}
const SCENARIOS = ['throughput', 'node24', 'fanin', 'heap', 'long', 'mcp', 'startup'];
const only = new Set((args.only ?? SCENARIOS.join(',')).split(','));
// A hard ceiling: whatever happens, the run ends and its children die.
// (A quick run takes about 30 s on an idle machine; the ceiling leaves room for a busy one.)
const CEILING_MS = args.quick ? 120_000 : 20 * 60_000;

const started = performance.now();
const log = (msg) =>
  process.stderr.write(`[bench ${((performance.now() - started) / 1000).toFixed(1)}s] ${msg}\n`);

process.on('exit', killAll);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    killAll();
    process.exit(130);
  });
}
const ceiling = setTimeout(() => {
  log(`exceeded ${CEILING_MS / 1000} s: stopping`);
  killAll();
  process.exit(1);
}, CEILING_MS);
ceiling.unref();

function gitCommit() {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}

/** Rounds every number in a JSON-able value (keeps latest.json readable). */
function rounded(value) {
  if (typeof value === 'number') return round(value, 4);
  if (Array.isArray(value)) return value.map(rounded);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rounded(v)]));
  }
  return value;
}

async function main() {
  if (!existsSync(fileURLToPath(new URL('../dist/index.js', import.meta.url)))) {
    throw new Error('dist/ is missing: run `npm run build` first (npm run bench does)');
  }
  mkdirSync(RESULTS, { recursive: true });
  const meta = {
    date: new Date().toISOString(),
    commit: gitCommit(),
    quick: args.quick,
    reps: cfg.reps,
    node: process.versions.node,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpuModel: os.cpus()[0]?.model ?? 'unknown CPU',
    cpus: os.cpus().length,
    memoryGB: round(os.totalmem() / 2 ** 30, 1),
    loadAverage: os.loadavg().map((l) => round(l, 2)),
    dist: process.env.EXAI_BENCH_DIST ?? 'dist',
    config: cfg,
  };
  const emulator = await startEmulatorChild({ tokensPerChunk: 1 });
  log(`emulator at ${emulator.url} (pid ${emulator.pid})`);
  const report = { meta };
  try {
    if (only.has('throughput')) {
      Object.assign(report, await throughputAndFirstToken({ emulator, cfg, kinds: KINDS, log }));
      if (args.profile) {
        const file = await profileThroughput({ emulator, cfg, kind: 'exai', dir: RESULTS });
        const linesFile = await profileThroughput({ emulator, cfg, kind: 'lines', dir: RESULTS });
        report.profile = {
          file: 'bench/results/exai-throughput.cpuprofile',
          ...summarizeProfile(file, 20),
          byFile: summarizeByFile(file),
          lines: { ...summarizeProfile(linesFile, 10), byFile: summarizeByFile(linesFile) },
        };
        log('profiles written');
      }
    }
    if (only.has('node24')) {
      report.node24 = await node24Run({ emulator, cfg, log });
      if (!report.node24.throughput) log(report.node24.note);
    }
    if (only.has('fanin')) report.fanIn = await fanIn({ emulator, cfg, kinds: cfg.fanInKinds, log });
    if (only.has('heap'))
      report.heap = await heapPerStream({ emulator, cfg, kinds: ['lines', 'parser', 'exai'], log });
    if (only.has('long')) report.long = await longAnswers({ emulator, cfg, log });
    if (only.has('mcp')) {
      report.mcp = await mcpRelay({ emulator, cfg, cli: CLI, log });
      log(report.mcp.available ? 'mcp relay done' : `mcp relay: ${report.mcp.note}`);
      if (args.profile && report.mcp.available) {
        const file = await profileMcpServer({ emulator, cfg, cli: CLI, dir: RESULTS });
        if (file && existsSync(file)) {
          report.mcpProfile = { file: 'bench/results/mcp-server.cpuprofile', ...summarizeProfile(file, 20) };
          report.mcpProfile.byFile = summarizeByFile(file);
        }
        log('mcp server profile written');
      }
    }
  } finally {
    await emulator.close();
  }
  // Last, with the emulator gone: fresh processes that only start up.
  if (only.has('startup')) report.startup = await startupCost({ cfg, log });
  const complete = SCENARIOS.every((s) => only.has(s));
  // A partial run (--only) still gets the ratios it can compute (null for the rest).
  report.ratios = computeRatios(report);
  report.verdicts = judge(report.ratios);
  report.extras = computeExtras(report);
  report.meta.durationS = round((performance.now() - started) / 1000, 1);
  const out = rounded(report);
  const file = complete ? 'latest.json' : 'partial.tmp.json';
  writeFileSync(`${RESULTS}/${file}`, `${JSON.stringify(out, null, 2)}\n`);
  process.stdout.write(`${markdown(out)}\n`);
  log(`done in ${report.meta.durationS} s → bench/results/${file}`);
}

main()
  .then(() => {
    killAll();
    process.exit(0);
  })
  .catch((error) => {
    log(`failed: ${error?.stack ?? error}`);
    killAll();
    process.exit(1);
  });
