// The MCP side of the relay benchmark: `exai serve` over stdio with the SDK v2 client, progress
// notifications timed as they come off the wire, and a process's CPU time read from /proc.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { onCleanup } from './children.js';
import { MODEL, wallNow } from './common.js';

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
        if (!seen) {
          seen = { chars: 0, notes: [] };
          byToken.set(p.progressToken, seen);
        }
        seen.chars += delta.length;
        seen.notes.push(seen.chars, at);
      }
    }
    onmessage?.(message, extra);
  };
  return { notesFor: (prompt) => byToken.get(tokenOf.get(prompt))?.notes ?? [] };
}

export async function connect(emulator, windowMs, cli, nodeArgs = []) {
  const { Client } = await import('@modelcontextprotocol/client');
  const { StdioClientTransport } = await import('@modelcontextprotocol/client/stdio');
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [...nodeArgs, cli, 'serve'],
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
    /** Closes stdin (the server then exits by itself, writing a --cpu-prof profile); kills it after 5 s. */
    close: async () => {
      await client.close().catch(() => {});
      for (let i = 0; i < 100 && existsSync(`/proc/${pid}`) && !isZombie(pid); i++) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
      forget();
    },
  };
}

function isZombie(pid) {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].startsWith('Z');
  } catch {
    return true;
  }
}

export async function callChat(conn, prompt) {
  const result = await conn.client.callTool(
    { name: 'chat', arguments: { prompt, model: MODEL } },
    { onprogress: () => {}, timeout: CALL_TIMEOUT_MS, resetTimeoutOnProgress: true },
  );
  if (result.isError) throw new Error(`chat tool error: ${JSON.stringify(result.content).slice(0, 300)}`);
  return result.content?.[0]?.text ?? '';
}
