// The Node 24 sub-run: the Vercel AI SDK needs Node 22+, so its burst is measured beside exai and
// lines in workers on Node 24 (fetched by `npx -y node@24`, as .ci/run does), against the same
// emulator and in the same run as everything else. burst_cpu_vs_aisdk comes from here.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { throughputAndFirstToken } from './burst.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The Node 24 binary (path, version), or null with the reason. */
function findNode24() {
  try {
    const out = execFileSync(
      'npx',
      ['-y', 'node@24', '-p', 'process.execPath + " " + process.versions.node'],
      {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 120_000,
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    ).trim();
    const [path, version] = out.split('\n').at(-1).split(' ');
    return existsSync(path) ? { path, version } : { reason: `npx -y node@24 gave "${out.slice(0, 200)}"` };
  } catch (error) {
    return { reason: `npx -y node@24 failed: ${String(error?.message ?? error).slice(0, 200)}` };
  }
}

const aiSdkInstalled = () =>
  existsSync(`${ROOT}/node_modules/ai/package.json`) &&
  existsSync(`${ROOT}/node_modules/@ai-sdk/openai-compatible/package.json`);

export async function node24Run({ emulator, cfg, log }) {
  const node = findNode24();
  if (!node.path) return { node: null, note: `Node 24 not available: ${node.reason}` };
  const kinds = ['lines', 'exai'];
  let note = null;
  if (aiSdkInstalled()) kinds.push('aisdk');
  else note = 'The AI SDK (`ai`, `@ai-sdk/openai-compatible`) is not installed: measured without it.';
  const { throughput } = await throughputAndFirstToken({
    emulator,
    cfg,
    kinds,
    log,
    execPath: node.path,
    afterFullGc: false,
    firstToken: false,
  });
  return { node: node.version, note, throughput };
}
