// Runs the built `exai` CLI as a child with only the given environment (and PATH), stdin closed.
import { spawn } from 'node:child_process';
import { BIN, CWD } from './mcp.js';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runExai(args: string[], env: Record<string, string>): Promise<CliRun> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { PATH: process.env.PATH ?? '', ...env },
      cwd: CWD,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('close', (code) => done({ code, stdout, stderr }));
  });
}
