// The issue-20 ratios and their targets. Every ratio compares figures measured side by side in one
// run; the markdown tables are in markdown.js.
import { ratio } from './stats.js';

/** Target per ratio key: the figure must be ≤ `max` (`max: null`: reported, no target). */
export const TARGETS = {
  burst_cpu_vs_lines: { max: 1.5, text: '≤ 1.5× lines' },
  burst_cpu_vs_parser: { max: 1.1, text: '≤ 1.1× eventsource-parser' },
  ttft_over_raw_ms: { max: 0.2, text: '≤ raw + 0.2 ms' },
  fanin200_p99_vs_lines: { max: 1.2, text: '≤ 1.2× lines' },
  fanin200_cpu_vs_lines: { max: 1.15, text: '≤ 1.15× lines' },
  fanin1000_p99_vs_lines: { max: 1.5, text: '≤ 1.5× lines' },
  fanin1000_rss_vs_lines: { max: 1.25, text: '≤ 1.25× lines' },
  fanin1000_errors: { max: 0, text: '0' },
  heap_per_stream_kb: { max: 12, text: '≤ 12 KB' },
  mcp_p99_over_window_ms: { max: 5, text: '≤ window + 5 ms' },
  mcp_cpu_per_token_vs_library: { max: 1.5, text: '≤ 1.5× library path' },
  long_memory_vs_size: { max: 2, text: '≤ 2× output size' },
  long_time_2mb_vs_05mb: { max: 4.4, text: '≤ 4.4× the 0.5 MB time' },
  burst_cpu_vs_openai: { max: null, text: 'reported' },
  burst_cpu_vs_aisdk: { max: null, text: 'reported (Node 24 run)' },
};

const cpu = (consumers, kind) => consumers?.[kind]?.cpuUsPerChunk;

/** Exactly the keys, each a number (null only when its scenario could not run). */
export function computeRatios({ throughput, firstToken, fanIn, mcp, long, heap, node24 }) {
  const tp = throughput?.consumers;
  const ft = firstToken?.consumers;
  const f200 = fanIn?.[200]?.consumers;
  const f1000 = fanIn?.[1000]?.consumers;
  const largest = long?.at(-1);
  const smallest = long?.[0];
  const busiest = mcp?.available
    ? mcp.summary.calls[Math.max(...Object.keys(mcp.summary.calls).map(Number))]
    : null;
  const n24 = node24?.throughput?.consumers;
  return {
    burst_cpu_vs_lines: ratio(cpu(tp, 'exai'), cpu(tp, 'lines')),
    burst_cpu_vs_parser: ratio(cpu(tp, 'exai'), cpu(tp, 'parser')),
    ttft_over_raw_ms: ft?.exai && ft.raw ? ft.exai.ms - ft.raw.ms : null,
    fanin200_p99_vs_lines: ratio(f200?.exai?.p99Ms, f200?.lines?.p99Ms),
    fanin200_cpu_vs_lines: ratio(f200?.exai?.cpuUsPerChunk, f200?.lines?.cpuUsPerChunk),
    fanin1000_p99_vs_lines: ratio(f1000?.exai?.p99Ms, f1000?.lines?.p99Ms),
    fanin1000_rss_vs_lines: ratio(f1000?.exai?.peakRssMB, f1000?.lines?.peakRssMB),
    fanin1000_errors: f1000?.exai ? f1000.exai.errors : null,
    heap_per_stream_kb: heap?.consumers.exai?.heapKBPerStream ?? null,
    mcp_p99_over_window_ms: busiest ? busiest.p99Ms - mcp.windowMs : null,
    mcp_cpu_per_token_vs_library: busiest
      ? ratio(busiest.serverCpuUsPerToken, mcp.summary.libraryCpuUsPerToken)
      : null,
    long_memory_vs_size: largest ? ratio(largest.peakLiveMB * 2 ** 20, largest.bytes) : null,
    long_time_2mb_vs_05mb: largest ? ratio(largest.wallMs, smallest.wallMs) : null,
    burst_cpu_vs_openai: ratio(cpu(tp, 'exai'), cpu(tp, 'openai')),
    burst_cpu_vs_aisdk: ratio(cpu(n24, 'exai'), cpu(n24, 'aisdk')),
  };
}

/**
 * Figures beside the targets (not target keys): fan-in p99 once every stream has started (the
 * overall p99 is set while the streams are starting and swings with machine load), the burst
 * ratio to lines on Node 24, the heap per stream of the two floors (a bare splitter, and
 * eventsource-parser, the SSE library exai uses, with no state beyond the parser's), and exai's
 * heap per stream of all the streams against none (with the code V8 compiled for them: bench/heap-job.js).
 */
export function computeExtras({ fanIn, node24, heap }) {
  const steady = (n) =>
    ratio(fanIn?.[n]?.consumers.exai?.steadyP99Ms, fanIn?.[n]?.consumers.lines?.steadyP99Ms);
  const n24 = node24?.throughput?.consumers;
  return {
    fanin200_steady_p99_vs_lines: steady(200),
    fanin1000_steady_p99_vs_lines: steady(1000),
    node24_burst_cpu_vs_lines: ratio(cpu(n24, 'exai'), cpu(n24, 'lines')),
    heap_per_stream_lines_kb: heap?.consumers.lines?.heapKBPerStream ?? null,
    heap_per_stream_parser_kb: heap?.consumers.parser?.heapKBPerStream ?? null,
    heap_per_stream_all_kb: heap?.consumers.exai?.allKBPerStream ?? null,
  };
}

function fmt(v) {
  return Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);
}

/** met / missed (by how much) / reported for each ratio. */
export function judge(ratios) {
  return Object.fromEntries(
    Object.entries(ratios).map(([key, value]) => {
      const { max, text } = TARGETS[key];
      if (value === null) return [key, { value, target: text, status: 'not measured' }];
      if (max === null) return [key, { value, target: text, status: 'reported' }];
      const met = value <= max;
      const by = max === 0 ? `${value}` : `${fmt(value - max)} (${fmt(value / max)}× the limit)`;
      return [key, { value, target: text, status: met ? 'met' : `missed by ${by}` }];
    }),
  );
}
