// Running the built `exai` binary in tests: its path, an empty working directory, shell quoting and
// a spawn with pipes that collects both outputs.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const BIN = resolve(import.meta.dirname, '../../dist/cli/main.js');
// An empty working directory, so no developer's .env leaks into the tests.
export const CWD = mkdtempSync(join(tmpdir(), 'exai-cli-'));

/** Quotes one word for sh. */
export const sh = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs exai with pipes for stdin (closed at once unless `input` is given), stdout and stderr. */
export function runExai(
  args: string[],
  env: Record<string, string>,
  opts: { input?: string; onStderr?: (text: string, child: ChildProcess) => void } = {},
): Promise<Run> {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: CWD,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin.end(opts.input);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => {
    stdout += s;
  });
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
    opts.onStderr?.(s, child);
  });
  return new Promise((done) => child.on('close', (code) => done({ code, stdout, stderr })));
}
