// The markdown tables `npm run bench` prints (the same figures as bench/results/latest.json).

/** A ratio or target figure: three decimals below 10, two above (a KB figure near its 12 KB limit). */
const ratioText = (v) => (typeof v === 'number' && Math.abs(v) >= 10 ? v.toFixed(2) : fmt(v, 3));

export function fmt(v, digits = 2) {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  if (Math.abs(v) >= 100) return v.toFixed(0);
  if (Math.abs(v) >= 10) return v.toFixed(1);
  return v.toFixed(digits);
}

export function table(head, rows) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

const LABEL = {
  raw: 'raw node:http bytes (floor)',
  lines: 'lines (`\\n\\n` split + JSON.parse)',
  parser: 'eventsource-parser + JSON.parse',
  openai: 'openai-node 6 for await',
  aisdk: 'AI SDK streamText().textStream',
  exai: 'exai (for await + finalResult)',
};

function burstTable(tp, withCold) {
  const l = tp.consumers.lines?.cpuUsPerChunk;
  const p = tp.consumers.parser?.cpuUsPerChunk;
  return table(
    [
      'consumer',
      'CPU µs/chunk',
      '× lines',
      '× eventsource-parser',
      'wall ms',
      ...(withCold ? ['after a full GC'] : []),
    ],
    Object.entries(tp.consumers).map(([k, c]) => [
      LABEL[k],
      fmt(c.cpuUsPerChunk),
      fmt(l && c.cpuUsPerChunk / l),
      fmt(p && c.cpuUsPerChunk / p),
      fmt(c.wallMs, 0),
      ...(withCold ? [fmt(c.afterFullGc?.cpuUsPerChunk)] : []),
    ]),
  );
}

function libraryTables(report) {
  const { throughput: tp, firstToken: ft, fanIn, heap, node24, meta } = report;
  const out = [];
  if (tp) {
    out.push(
      `### Burst: one unpaced stream of ${tp.chunks} chunks (${fmt(tp.charsPerChunk, 1)} chars/chunk)`,
      '',
      burstTable(tp, true),
      '',
      `CPU of the consumer's whole process per wire chunk; each repetition after a minor GC and ` +
        `${meta.config.warmups} unmeasured warm-up streams. "After a full GC" repeats the stream right ` +
        'after a forced full GC (V8 then also drops type feedback and optimized code: recompilation).',
      '',
    );
  }
  if (node24) {
    out.push(`### Burst on Node ${node24.node ?? '24'} (its own run of workers, same emulator)`, '');
    out.push(node24.throughput ? burstTable(node24.throughput, false) : `Not measured: ${node24.note}`, '');
    if (node24.note && node24.throughput) out.push(node24.note, '');
  }
  if (ft) {
    out.push(
      `### First token: request start → first content delta (median of ${ft.requests} requests each, the kinds in turn request by request)`,
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
  }
  for (const f of Object.values(fanIn ?? {})) {
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
  if (fanIn) {
    out.push(
      'Delay = consumer receipt − emulator send time (`x_emulator_sent_at`), every chunk of every stream; ' +
        '“steady” = chunks received after every stream had delivered its first one. CPU per chunk covers ' +
        'the whole consumer process; peak RSS is its kernel high-water mark.',
      '',
    );
  }
  if (heap) {
    out.push(
      `### Live heap per open stream: ${heap.streams} idle-paced streams (fresh warmed process per run)`,
      '',
      table(
        [
          'consumer',
          'JS heap KB/stream',
          'external KB/stream',
          'RSS KB/stream',
          'first half KB/stream',
          'all against none KB/stream',
        ],
        Object.entries(heap.consumers).map(([k, c]) => [
          LABEL[k],
          c.heapKBPerStream.toFixed(2),
          fmt(c.externalKBPerStream, 1),
          fmt(c.rssKBPerStream, 1),
          c.firstHalfKBPerStream.toFixed(2),
          c.allKBPerStream.toFixed(2),
        ]),
      ),
      '',
      'The streams open in two halves (each stream delivers its first chunk and waits ' +
        `${heap.idlePaceMs / 1000} s for the next). JS heap KB/stream: heap used after a full GC ` +
        'with every stream open, minus the same with the first half open, ÷ the second half. ' +
        'The first half also pays for the code V8 compiles at that scale, once; so does the ' +
        'figure of all streams against none.',
      '',
    );
  }
  return out;
}

function mcpTable(mcp) {
  if (!mcp) return [];
  if (!mcp.available) return ['### MCP relay', '', `Not measured: ${mcp.note}`, ''];
  const s = mcp.summary;
  return [
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
    `Library path at the same shape (${s.libraryStreams} concurrent paced streams): ` +
      `${fmt(s.libraryCpuUsPerToken, 1)} µs CPU/token. Unpaced, ${s.bulk.calls} calls × ${s.bulk.tokensPerCall} ` +
      `tokens: one server sustains ${fmt(s.bulk.tokensPerSecond, 0)} tokens/s.`,
    '',
  ];
}

function longTable(long) {
  if (!long) return [];
  return [
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
  ];
}

function startupTable(startup) {
  if (!startup) return [];
  const c = startup.cases;
  const row = (name, what) => [what, fmt(c[name].wallMs, 0), fmt(c[name].upMs, 0), fmt(c[name].peakRssMB, 1)];
  return [
    `### Start-up and import cost (fresh process each, median of ${startup.reps})`,
    '',
    table(
      ['process', 'wall ms (spawn → exit)', 'ms since its start, at exit', 'peak RSS MB'],
      [
        row('node', 'bare `node -e 0`'),
        row('import', "`import('exai')` (nothing else)"),
        row('version', '`exai --version`'),
        row('chatHelp', '`exai chat --help`'),
      ],
    ),
    '',
    `The import itself (timed inside the process): ${fmt(c.import.importMs, 1)} ms.`,
    '',
  ];
}

export function markdown(report) {
  const { meta, verdicts } = report;
  const out = [
    `## exai benchmarks (${meta.quick ? 'quick' : 'full'}, ${meta.reps} reps, medians)`,
    '',
    `${meta.cpuModel}, ${meta.cpus} cores, Node ${meta.node}, ${meta.platform}, load average ` +
      `${meta.loadAverage.join(' ')} at the start; emulator in a child process.`,
    '',
    ...libraryTables(report),
    ...mcpTable(report.mcp),
    ...longTable(report.long),
    ...startupTable(report.startup),
  ];
  if (verdicts) {
    out.push(
      '### Ratios vs the issue-20 targets',
      '',
      table(
        ['ratio', 'value', 'target', 'status'],
        Object.entries(verdicts).map(([k, v]) => [`\`${k}\``, ratioText(v.value), v.target, v.status]),
      ),
      '',
      `Beside them (no target): ${Object.entries(report.extras ?? {})
        .map(([k, v]) => `\`${k}\` ${ratioText(v)}`)
        .join(', ')}.`,
      '',
    );
  }
  for (const [title, p] of [
    ['exai path (burst)', report.profile],
    ['exai serve relaying paced calls', report.mcpProfile],
  ]) {
    if (!p) continue;
    out.push(
      `### CPU profile of the ${title} (${p.file})`,
      '',
      table(
        ['self %', 'self ms', 'function', 'where'],
        p.top.map((r) => [fmt(r.pct, 1), fmt(r.selfMs, 1), r.fn, r.at]),
      ),
      '',
    );
  }
  return out.join('\n');
}
