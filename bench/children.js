// Child processes of the benchmark: the emulator, measuring workers and their IPC, and a
// registry so every child is killed when the run ends, fails or is interrupted.
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

const EMULATOR = fileURLToPath(new URL('./emulator-child.js', import.meta.url));
const WORKER = fileURLToPath(new URL('./worker.js', import.meta.url));

const live = new Set();
const cleanups = new Set();

function track(child) {
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

/** Runs `fn` at cleanup (e.g. to kill a process started by a library). Returns an unregister function. */
export function onCleanup(fn) {
  cleanups.add(fn);
  return () => cleanups.delete(fn);
}

/** Kills every child still alive: synchronous, so it also works from an 'exit' handler. */
export function killAll() {
  for (const fn of cleanups) {
    try {
      fn();
    } catch {
      // Best effort: the process may already be gone.
    }
  }
  cleanups.clear();
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // Already gone.
    }
  }
  live.clear();
}

/** Ends a child politely, then by force after `graceMs`. */
export async function stopChild(child, graceMs = 2000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Waits for the first IPC message matching `test`, or fails when the child exits or `ms` passes. */
function nextMessage(child, test, ms, what) {
  return withTimeout(
    new Promise((resolve, reject) => {
      const onMessage = (msg) => {
        if (!test(msg)) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(msg);
      };
      const onExit = (code, signal) => {
        child.off('message', onMessage);
        reject(new Error(`${what}: child exited (${signal ?? code})`));
      };
      child.on('message', onMessage);
      child.once('exit', onExit);
    }),
    ms,
    what,
  );
}

/** The emulator in a child process; resolves once it listens. */
export async function startEmulatorChild(options = {}) {
  const child = track(
    fork(EMULATOR, [JSON.stringify(options)], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] }),
  );
  let buffered = '';
  const info = await withTimeout(
    new Promise((resolve, reject) => {
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (text) => {
        buffered += text;
        const nl = buffered.indexOf('\n');
        if (nl >= 0) resolve(JSON.parse(buffered.slice(0, nl)));
      });
      child.once('exit', (code) => reject(new Error(`emulator exited (${code}) before listening`)));
    }),
    10_000,
    'emulator start',
  );
  const ask = async (msg, type) => {
    child.send(msg);
    return nextMessage(child, (m) => m?.type === type, 10_000, `emulator ${msg.type}`);
  };
  return {
    ...info,
    setOptions: (opts) => ask({ type: 'options', options: opts }, 'ok'),
    record: (on) => ask({ type: 'record', on }, 'ok'),
    log: async () => (await ask({ type: 'log' }, 'log')).entries,
    close: () => stopChild(child),
  };
}

/**
 * A measuring worker (bench/worker.js) with extra node flags, on this Node or on the one at
 * `execPath` (the Node 24 run); `call(job, ms)` runs one job.
 */
export async function startWorker(execArgv = [], execPath = process.execPath) {
  const child = track(
    fork(WORKER, [], { execArgv, execPath, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
  );
  await nextMessage(child, (m) => m?.ready === true, 15_000, 'worker start');
  let seq = 0;
  return {
    pid: child.pid,
    async call(job, ms) {
      const id = ++seq;
      child.send({ id, job });
      const reply = await nextMessage(child, (m) => m?.id === id, ms, `worker ${job.type}`);
      if (!reply.ok) throw new Error(reply.error);
      return reply.result;
    },
    /** Asks the worker to exit normally (so --cpu-prof writes its profile); forces it after `graceMs`. */
    async close(graceMs = 5000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = once(child, 'exit');
      child.send({ job: { type: 'exit' } });
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
