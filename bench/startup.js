// Import and start-up cost: fresh processes, one after another, each measured three ways: wall time
// seen by this process (spawn → exit), the child's own time since its start, and its peak RSS. A
// bare `node` doing nothing is the baseline the other figures are read against.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { distModule } from './common.js';
import { median, medianOf } from './stats.js';

const PROBE = fileURLToPath(new URL('./startup-probe.js', import.meta.url));
const IMPORT = fileURLToPath(new URL('./startup-import.js', import.meta.url));
const CLI = fileURLToPath(new URL(distModule('cli/main.js')));

const CASES = {
  node: ['-e', '0'],
  import: [IMPORT, distModule('index.js')],
  version: [CLI, '--version'],
  chatHelp: [CLI, 'chat', '--help'],
};

function once(args) {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, ['--import', PROBE, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      // No configuration of the machine's user leaks into the figures.
      env: { PATH: process.env.PATH ?? '', NO_COLOR: '1' },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      err += d;
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      const wallMs = performance.now() - t0;
      const line = err.split('\n').find((l) => l.startsWith('exai-bench-probe '));
      if (code !== 0 || !line) {
        reject(new Error(`${args.join(' ')}: exit ${code}, ${err.trim().slice(-200)}`));
        return;
      }
      const probe = JSON.parse(line.slice('exai-bench-probe '.length));
      const first = out.split('\n')[0];
      resolve({ wallMs, upMs: probe.upMs, peakRssMB: probe.peakRssKB / 1024, inner: tryJson(first) });
    });
  });
}

function tryJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** `reps` rounds over every case (interleaved), medians per case. */
export async function startupCost({ cfg, log }) {
  const runs = Object.fromEntries(Object.keys(CASES).map((k) => [k, []]));
  for (let rep = 0; rep < cfg.startupReps; rep++) {
    for (const [name, args] of Object.entries(CASES)) runs[name].push(await once(args));
  }
  const cases = Object.fromEntries(
    Object.keys(CASES).map((k) => [
      k,
      {
        wallMs: medianOf(runs[k], (r) => r.wallMs),
        upMs: medianOf(runs[k], (r) => r.upMs),
        peakRssMB: medianOf(runs[k], (r) => r.peakRssMB),
        runs: runs[k].map(({ inner, ...r }) => r),
      },
    ]),
  );
  cases.import.importMs = median(runs.import.map((r) => r.inner?.importMs));
  log(
    `start-up: import ${cases.import.importMs?.toFixed(1)} ms, ${cases.import.peakRssMB.toFixed(1)} MB peak`,
  );
  return { reps: cfg.startupReps, cases };
}
