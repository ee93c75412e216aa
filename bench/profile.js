// Reads a V8 .cpuprofile (from `node --cpu-prof`) and ranks functions by self time.
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

function where(callFrame) {
  const { url, lineNumber } = callFrame;
  if (!url) return '';
  let path = url.startsWith('file://') ? fileURLToPath(url) : url;
  if (path.startsWith(ROOT)) path = relative(ROOT, path);
  return `${path}:${lineNumber + 1}`;
}

/**
 * Top `limit` entries by self time: [{ fn, at, selfMs, pct }], plus totals. `(idle)` is left out
 * of the percentages (the process waiting for the socket is not work); `(garbage collector)` and
 * `(program)` stay in, since they are work the code under test caused.
 */
export function summarizeProfile(file, limit = 15) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const { samples = [], timeDeltas = [] } = profile;
  for (let i = 0; i < samples.length; i++) {
    const node = byId.get(samples[i]);
    if (!node) continue;
    const fn = node.callFrame.functionName || '(anonymous)';
    const key = `${fn}\u0000${where(node.callFrame)}`;
    self.set(key, (self.get(key) ?? 0) + Math.max(0, timeDeltas[i] ?? 0));
  }
  let busyUs = 0;
  const rows = [];
  for (const [key, us] of self) {
    const [fn, at] = key.split('\u0000');
    if (fn === '(idle)') continue;
    busyUs += us;
    rows.push({ fn, at, us });
  }
  rows.sort((a, b) => b.us - a.us);
  return {
    busyMs: busyUs / 1000,
    top: rows.slice(0, limit).map((r) => ({
      fn: r.fn,
      at: r.at,
      selfMs: Math.round(r.us / 100) / 10,
      pct: busyUs ? Math.round((1000 * r.us) / busyUs) / 10 : 0,
    })),
  };
}

/** Self time grouped by file (or a pseudo-entry such as "(garbage collector)"), top `limit`. */
export function summarizeByFile(file, limit = 12) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const perFile = new Map();
  let busyUs = 0;
  const { samples = [], timeDeltas = [] } = profile;
  for (let i = 0; i < samples.length; i++) {
    const node = byId.get(samples[i]);
    if (!node || node.callFrame.functionName === '(idle)') continue;
    const us = Math.max(0, timeDeltas[i] ?? 0);
    const at = where(node.callFrame);
    const key = at ? at.replace(/:\d+$/, '') : node.callFrame.functionName || '(native)';
    perFile.set(key, (perFile.get(key) ?? 0) + us);
    busyUs += us;
  }
  return [...perFile]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([file, us]) => ({
      file,
      selfMs: Math.round(us / 100) / 10,
      pct: Math.round((1000 * us) / busyUs) / 10,
    }));
}
