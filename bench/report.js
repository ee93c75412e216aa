// The issue-9 ratios, their targets, and the markdown tables printed by `npm run bench`.
import { ratio } from './stats.js';

/** Target per ratio key: the figure must be ≤ `max`. */
export const TARGETS = {
  throughput_vs_parser: { max: 1.25, text: '≤ 1.25× parser only' },
  throughput_vs_openai: { max: 0.2, text: '≤ 0.2× openai-node' },
  ttft_over_raw_ms: { max: 0.3, text: '≤ raw + 0.3 ms' },
  fanin200_p99_vs_parser: { max: 1.5, text: '≤ 1.5× parser only' },
  fanin200_cpu_vs_parser: { max: 1.3, text: '≤ 1.3× parser only' },
  fanin1000_p99_vs_openai: { max: 0.2, text: '≤ 0.2× openai-node' },
  fanin1000_rss_vs_openai: { max: 0.5, text: '≤ 0.5× openai-node' },
  fanin1000_errors: { max: 0, text: '0' },
  mcp_p99_over_window_ms: { max: 10, text: '≤ window + 10 ms' },
  mcp_cpu_per_token_vs_library: { max: 2, text: '≤ 2× library path' },
  long_memory_vs_size: { max: 3, text: '≤ 3× output size' },
  long_time_2mb_vs_05mb: { max: 4.5, text: '≤ 4.5× the 0.5 MB time' },
};

/** Exactly the keys, each a number (null only when its scenario could not run). */
export function computeRatios({ throughput, firstToken, fanIn, mcp, long }) {
  const tp = throughput.consumers;
  const f200 = fanIn[200]?.consumers;
  const f1000 = fanIn[1000]?.consumers;
  const largest = long.at(-1);
  const smallest = long[0];
  const busiest = mcp.available
    ? mcp.summary.calls[Math.max(...Object.keys(mcp.summary.calls).map(Number))]
    : null;
  return {
    throughput_vs_parser: ratio(tp.exai.cpuUsPerChunk, tp.parser.cpuUsPerChunk),
    throughput_vs_openai: ratio(tp.exai.cpuUsPerChunk, tp.openai.cpuUsPerChunk),
    ttft_over_raw_ms: firstToken.consumers.exai.ms - firstToken.consumers.raw.ms,
    fanin200_p99_vs_parser: ratio(f200?.exai.p99Ms, f200?.parser.p99Ms),
    fanin200_cpu_vs_parser: ratio(f200?.exai.cpuUsPerChunk, f200?.parser.cpuUsPerChunk),
    fanin1000_p99_vs_openai: ratio(f1000?.exai.p99Ms, f1000?.openai.p99Ms),
    fanin1000_rss_vs_openai: ratio(f1000?.exai.peakRssMB, f1000?.openai.peakRssMB),
    fanin1000_errors: f1000 ? f1000.exai.errors : null,
    mcp_p99_over_window_ms: busiest ? busiest.p99Ms - mcp.windowMs : null,
    mcp_cpu_per_token_vs_library: mcp.available
      ? ratio(busiest.serverCpuUsPerToken, mcp.summary.libraryCpuUsPerToken)
      : null,
    long_memory_vs_size: ratio(largest.peakLiveMB * 2 ** 20, largest.bytes),
    long_time_2mb_vs_05mb: ratio(largest.wallMs, smallest.wallMs),
  };
}

/** met / missed (by how much) for each ratio. */
export function judge(ratios) {
  return Object.fromEntries(
    Object.entries(ratios).map(([key, value]) => {
      const { max, text } = TARGETS[key];
      if (value === null) return [key, { value, target: text, status: 'not measured' }];
      const met = value <= max;
      const by = max === 0 ? `${value}` : `${fmt(value - max)} (${fmt(value / max)}× the limit)`;
      return [key, { value, target: text, status: met ? 'met' : `missed by ${by}` }];
    }),
  );
}

function fmt(v, digits = 2) {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  if (Math.abs(v) >= 100) return v.toFixed(0);
  if (Math.abs(v) >= 10) return v.toFixed(1);
  return v.toFixed(digits);
}

function table(head, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

const LABEL = {
  raw: 'raw node:http bytes (floor)',
  parser: 'parser only (eventsource-parser + JSON.parse)',
  openai: 'openai-node 6 for await',
  exai: 'exai (for await + finalResult)',
};

export function markdown(report) {
  const { throughput: tp, firstToken: ft, fanIn, mcp, long, verdicts, meta } = report;
  const out = [];
  out.push(
    `## exai benchmarks (${meta.quick ? 'quick' : 'full'}, ${meta.reps} reps, medians)`,
    '',
    `${meta.cpuModel}, ${meta.cpus} cores, Node ${meta.node}, ${meta.platform}; emulator in a child process.`,
    '',
  );
  const p = tp.consumers.parser.cpuUsPerChunk;
  const o = tp.consumers.openai.cpuUsPerChunk;
  out.push(
    `### Throughput: one unpaced stream of ${tp.chunks} chunks (${fmt(tp.charsPerChunk, 1)} chars/chunk)`,
    '',
    table(
      ['consumer', 'CPU µs/chunk', '× parser only', '× openai-node', 'wall ms', 'after a full GC: µs/chunk'],
      Object.entries(tp.consumers).map(([k, c]) => [
        LABEL[k],
        fmt(c.cpuUsPerChunk),
        fmt(c.cpuUsPerChunk / p),
        fmt(c.cpuUsPerChunk / o),
        fmt(c.wallMs, 0),
        fmt(c.afterFullGc?.cpuUsPerChunk),
      ]),
    ),
    '',
    `Each repetition starts after a minor GC (the previous run's garbage is gone, the JIT's state is kept), ` +
      `after ${meta.config.warmups} unmeasured warm-up streams. The last column repeats the stream right after a ` +
      'forced full GC, which also throws away type feedback and optimized code tied to collected objects: ' +
      'those runs measure recompilation as much as streaming.',
    '',
    `### First token: request start → first content delta (median of ${ft.requestsPerRun} requests a run)`,
    '',
    table(
      ['consumer', 'ms', 'over raw, ms'],
      Object.entries(ft.consumers).map(([k, c]) => [
        LABEL[k],
        fmt(c.ms, 3),
        fmt(c.ms - ft.consumers.raw.ms, 3),
      ]),
    ),
    '',
  );
  for (const f of Object.values(fanIn)) {
    out.push(
      `### Fan-in: ${f.streams} streams × ${f.chunksPerStream} chunks at ${1000 / f.paceMs} chunks/s ` +
        `(started over ${f.rampMs} ms; fresh warmed process per run)`,
      '',
      table(
        ['consumer', 'p50 ms', 'p99 ms', 'max ms', 'steady p99 ms', 'CPU µs/chunk', 'peak RSS MB', 'errors'],
        Object.entries(f.consumers).map(([k, c]) => [
          LABEL[k],
          fmt(c.p50Ms),
          fmt(c.p99Ms),
          fmt(c.maxMs),
          fmt(c.steadyP99Ms),
          fmt(c.cpuUsPerChunk, 1),
          fmt(c.peakRssMB, 0),
          String(c.errors),
        ]),
      ),
      '',
    );
  }
  out.push(
    'Delay = consumer receipt − emulator send time (`x_emulator_sent_at`), every chunk of every stream; ' +
      '“steady” = chunks received after every stream had delivered its first one (no connection ramp). ' +
      'CPU per chunk covers the whole consumer process; peak RSS is its kernel high-water mark.',
    '',
  );
  if (mcp.available) {
    const s = mcp.summary;
    out.push(
      `### MCP relay: exai serve (stdio), ${mcp.tokensPerCall} tokens a call at ${1000 / mcp.paceMs} tokens/s`,
      '',
      table(
        [
          'calls',
          'window ms',
          'p50 ms',
          'p99 ms',
          'p99 − window',
          'tokens/notification',
          'server CPU µs/token',
        ],
        Object.values(s.calls).map((c) => [
          String(c.calls),
          String(mcp.windowMs),
          fmt(c.p50Ms),
          fmt(c.p99Ms),
          fmt(c.p99Ms - mcp.windowMs),
          fmt(c.tokensPerNotification, 1),
          fmt(c.serverCpuUsPerToken, 1),
        ]),
      ),
      '',
      'Delay = emulator send time of each content token → client receipt of the progress notification ' +
        'that carried it (read off the wire). Server CPU from /proc (all threads) over the run.',
      '',
      `Library path at the same shape (${s.libraryStreams} concurrent paced streams): ` +
        `${fmt(s.libraryCpuUsPerToken, 1)} µs CPU/token (CPU figures pooled over all repetitions). ` +
        `Unpaced, ${s.bulk.calls} calls × ${s.bulk.tokensPerCall} tokens: one server sustains ` +
        `${fmt(s.bulk.tokensPerSecond, 0)} tokens/s (server ${fmt(s.bulk.serverCpuUsPerToken, 2)} µs/token vs library ` +
        `${fmt(s.bulk.libraryCpuUsPerToken, 2)} µs/token at that shape; server busy ${fmt(100 * s.bulk.serverBusy, 0)} %, ` +
        `emulator busy ${fmt(100 * s.bulk.emulatorBusy, 0)} %).`,
      '',
    );
  } else {
    out.push('### MCP relay', '', `Not measured: ${mcp.note}`, '');
  }
  out.push(
    '### Long answers through the exai path (fresh process each)',
    '',
    table(
      ['answer', 'chunks', 'wall ms', 'CPU ms', 'peak live MB', '× size', 'RSS growth MB', 'left after MB'],
      long.map((l) => [
        `${l.sizeMB} MiB (${l.bytes} B)`,
        String(l.chunks),
        fmt(l.wallMs, 0),
        fmt(l.cpuMs, 0),
        fmt(l.peakLiveMB, 1),
        fmt((l.peakLiveMB * 2 ** 20) / l.bytes),
        fmt(l.rssGrowthMB, 1),
        fmt(l.leftAfterMB, 1),
      ]),
    ),
    '',
    'Peak live = JS heap after a full GC (after one unmeasured warm-up answer), the largest of probes at ' +
      '25/50/75 % of the chunks, the finishing chunk and the result in hand; RSS growth = kernel ' +
      'high-water mark − RSS before the request (includes GC slack); left after = heap once the result is dropped.',
    '',
    '### Ratios vs the issue-9 targets',
    '',
    table(
      ['ratio', 'value', 'target', 'status'],
      Object.entries(verdicts).map(([k, v]) => [`\`${k}\``, fmt(v.value, 3), v.target, v.status]),
    ),
    '',
  );
  if (report.profile) {
    out.push(
      `### CPU profile of the exai path (throughput; ${report.profile.file})`,
      '',
      table(
        ['self %', 'self ms', 'function', 'where'],
        report.profile.top.map((r) => [fmt(r.pct, 1), fmt(r.selfMs, 1), r.fn, r.at]),
      ),
      '',
    );
  }
  if (report.mcpProfile) {
    out.push(
      `### CPU profile of exai serve relaying 20 paced calls (${report.mcpProfile.file})`,
      '',
      table(
        ['self %', 'self ms', 'function', 'where'],
        report.mcpProfile.top.map((r) => [fmt(r.pct, 1), fmt(r.selfMs, 1), r.fn, r.at]),
      ),
      '',
    );
  }
  return out.join('\n');
}
