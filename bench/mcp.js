// MCP relay: the built `exai serve` (stdio) driven by the SDK v2 client. Measures, per content
// token, the delay from the emulator writing it to the progress notification that carried it
// reaching the client; the server's CPU per relayed token (from /proc, all its threads); and the
// tokens/s one server sustains unpaced. The library path at the same shape is the CPU baseline.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { onCleanup, startWorker } from './children.js';
import { MODEL, wallNow } from './consumers.js';
import { answerShape, wordsForChunks } from './scenarios.js';
import { median, medianOf, summarize } from './stats.js';

const CALL_TIMEOUT_MS = 120_000;

/** CPU time (µs) a process has used, all threads: schedstat (ns), else /proc/<pid>/stat ticks. */
export function processCpuUs(pid) {
  try {
    let ns = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    }
    return ns / 1000;
  } catch {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
      // utime and stime are fields 14 and 15 (1-based), in clock ticks (100 Hz on Linux).
      return (Number(fields[11]) + Number(fields[12])) * 10_000;
    } catch {
      return null;
    }
  }
}

/**
 * Records progress notifications as they come off the wire (the SDK hands them to `onprogress` a
 * microtask late and drops one that arrives together with the result), keyed by prompt.
 */
function tapProgress(transport) {
  const tokenOf = new Map();
  const byToken = new Map();
  const send = transport.send.bind(transport);
  transport.send = (message, options) => {
    const token = message.params?._meta?.progressToken;
    const prompt = message.params?.arguments?.prompt;
    if (message.method === 'tools/call' && token !== undefined) tokenOf.set(prompt, token);
    return send(message, options);
  };
  const onmessage = transport.onmessage;
  transport.onmessage = (message, extra) => {
    if (message.method === 'notifications/progress') {
      const at = wallNow();
      const p = message.params ?? {};
      const delta = p._meta?.['exai/delta'];
      if (typeof delta === 'string' && delta !== '' && p._meta?.['exai/channel'] === 'content') {
        let seen = byToken.get(p.progressToken);
        if (!seen) byToken.set(p.progressToken, (seen = { chars: 0, notes: [] }));
        seen.chars += delta.length;
        seen.notes.push(seen.chars, at);
      }
    }
    onmessage?.(message, extra);
  };
  return { notesFor: (prompt) => byToken.get(tokenOf.get(prompt))?.notes ?? [] };
}

async function connect(emulator, windowMs, cli) {
  const { Client } = await import('@modelcontextprotocol/client');
  const { StdioClientTransport } = await import('@modelcontextprotocol/client/stdio');
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [cli, 'serve'],
    // An empty working directory, so no .env is read; only what the benchmark sets.
    cwd: tmpdir(),
    env: {
      PATH: process.env.PATH ?? '',
      GLM_API_KEY: 'x',
      GLM_BASE_URL: emulator.glm,
      EXAI_PROGRESS_INTERVAL_MS: String(windowMs),
      EXAI_LOG_LEVEL: 'warn',
    },
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.setEncoding('utf8');
  transport.stderr?.on('data', (s) => {
    stderr = (stderr + s).slice(-4000);
  });
  const client = new Client({ name: 'exai-bench', version: '1.0.0' });
  await client.connect(transport);
  const wire = tapProgress(transport);
  const pid = transport.pid;
  // Killed with the other children if the run is interrupted.
  const forget = onCleanup(() => process.kill(pid, 'SIGKILL'));
  return {
    client,
    wire,
    pid,
    stderr: () => stderr,
    close: async () => {
      await client.close().catch(() => {});
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
      forget();
    },
  };
}

async function callChat(conn, prompt) {
  const result = await conn.client.callTool(
    { name: 'chat', arguments: { prompt, model: MODEL } },
    { onprogress: () => {}, timeout: CALL_TIMEOUT_MS, resetTimeoutOnProgress: true },
  );
  if (result.isError) throw new Error(`chat tool error: ${JSON.stringify(result.content).slice(0, 300)}`);
  return result.content?.[0]?.text ?? '';
}

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
async function pacedRun(conn, emulator, calls, tag) {
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
    serverCpuUsPerToken: serverCpuUs / tokens,
    serverBusy: serverCpuUs / 1000 / wallMs,
    emulatorBusy: emulatorCpuUs / 1000 / wallMs,
  };
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
    // Warm both the server and the library worker (JIT) before measuring, as a long-lived server is.
    await emulator.setOptions({ paceMs: 0, words: warm.words, tokensPerChunk: 1, timestamps: true });
    await Promise.all(Array.from({ length: cfg.mcpCalls.at(-1) }, (_, i) => callChat(conn, `bench warm ${i}`)));
    await library.call(
      { type: 'warmUp', kind: 'exai', base: emulator.glm, n: cfg.warmUpStreams, timeoutMs: CALL_TIMEOUT_MS },
      CALL_TIMEOUT_MS,
    );

    await emulator.setOptions({ paceMs: cfg.paceMs, words: shape.words, timestamps: true });
    const runs = Object.fromEntries([...cfg.mcpCalls.map((n) => [n, []]), ['library', []]]);
    const libraryStreams = cfg.mcpCalls.at(-1);
    for (let rep = 0; rep < cfg.reps; rep++) {
      for (const calls of cfg.mcpCalls) runs[calls].push(await pacedRun(conn, emulator, calls, `${rep}`));
      const lib = await library.call(
        {
          type: 'fanIn',
          kind: 'exai',
          base: emulator.glm,
          streams: libraryStreams,
          rampMs: 0,
          expectChunks: shape.chunks,
          timeoutMs: CALL_TIMEOUT_MS,
        },
        CALL_TIMEOUT_MS + 10_000,
      );
      const tokens = lib.chunks - lib.streams;
      runs.library.push({ streams: lib.streams, tokens, cpuUsPerToken: lib.cpuUs / tokens, errors: lib.errors });
      log(`mcp relay rep ${rep + 1}/${cfg.reps}`);
    }

    await emulator.setOptions({ paceMs: 0, words: bulk.words, timestamps: false });
    const bulkRuns = [];
    for (let rep = 0; rep < cfg.mcpBulkReps; rep++) {
      bulkRuns.push(await bulkRun(conn, emulator, cfg.mcpBulkCalls, bulk.words, `${rep}`));
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
          serverCpuUsPerToken: medianOf(runs[n], (r) => r.serverCpuUsPerToken),
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
        libraryCpuUsPerToken: medianOf(runs.library, (r) => r.cpuUsPerToken),
        libraryStreams,
        bulk: {
          calls: cfg.mcpBulkCalls,
          tokensPerCall: bulk.chunks - 1,
          tokensPerSecond: medianOf(bulkRuns, (r) => r.tokensPerSecond),
          serverCpuUsPerToken: medianOf(bulkRuns, (r) => r.serverCpuUsPerToken),
          serverBusy: median(bulkRuns.map((r) => r.serverBusy)),
          emulatorBusy: median(bulkRuns.map((r) => r.emulatorBusy)),
        },
      },
      runs: { ...runs, bulk: bulkRuns },
    };
  } catch (error) {
    const detail = conn ? ` (server stderr: ${conn.stderr().trim().slice(-300)})` : '';
    return unavailable(`MCP relay failed: ${String(error?.message ?? error).slice(0, 300)}${detail}`);
  } finally {
    await library?.close();
    await conn?.close();
  }
}
