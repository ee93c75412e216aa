// Fault matrix, CLI consumer: the built `exai chat --json` for every row × provider × streaming on/off.
import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../src/emulator/index.js';
import { FAULT_CASES, MATRIX_ENV } from './faults/cases.js';
import {
  checkOutcome,
  expectNoOpenSockets,
  MATRIX_MODEL,
  matrixRows,
  type Observed,
  prepareEmulator,
} from './faults/check.js';
import { TEST_KEY, testEnv } from './helpers/setup.js';

const BIN = resolve(import.meta.dirname, '../dist/cli/main.js');
const CWD = mkdtempSync(join(tmpdir(), 'exai-matrix-'));

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator();
});
afterAll(async () => {
  await emu.close();
});

describe('fault matrix: CLI', () => {
  it.each(matrixRows(FAULT_CASES, 'cli'))('%s', async (_name, c, provider, mode, e) => {
    prepareEmulator(emu, c, provider);
    const prompt = `matrix ${c.name} ${provider} ${mode}`;
    const args = [
      BIN,
      'chat',
      '--json',
      '--model',
      MATRIX_MODEL[provider],
      ...(mode === 'nostream' ? ['--no-stream'] : []),
      prompt,
    ];
    const child = spawn(process.execPath, args, {
      cwd: CWD,
      env: { PATH: process.env.PATH ?? '', ...testEnv(emu, { ...MATRIX_ENV, ...c.env }) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
    });
    const cancelAfter = c.cancelAfterChunks;
    if (cancelAfter !== undefined) {
      // Ctrl-C once a few chunks have gone out (the emulator is paced).
      await new Promise<void>((r) => emu.once('request', () => r()));
      await new Promise((r) => setTimeout(r, (c.paceMs ?? 0) * (cancelAfter + 2) + 150));
      child.kill('SIGINT');
    }
    const code = await new Promise<number | null>((r) => child.on('close', r));
    const seen: Observed = {};
    if (stdout.trim()) seen.result = JSON.parse(stdout);
    const lastLine = stderr.trim().split('\n').at(-1) ?? '';
    if (code !== 0) seen.error = seen.result?.error?.message ?? lastLine;
    checkOutcome(emu, prompt, provider, c, e, seen);
    const expectedCode = e.result === 'exact' ? 0 : c.cancelAfterChunks !== undefined ? 130 : 1;
    expect(code, stderr).toBe(expectedCode);
    expect(stdout + stderr).not.toContain(TEST_KEY);
    await expectNoOpenSockets(emu);
  });
});
