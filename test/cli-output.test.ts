// `exai chat` rough edges that show without a terminal: honest stats for a whole answer, the
// emulator footer only after an emulator answer, hints in errors and help, JSON log lines on a pipe.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../src/emulator/index.js';
import { BIN, CWD, runExai } from './helpers/cli.js';
import { testEnv } from './helpers/setup.js';

const FOOTER = /built-in emulator/;

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator({ words: 30 });
});
afterEach(() => {
  emu.reset();
  emu.setOptions({ paceMs: 0 });
});
afterAll(async () => {
  await emu.close();
});

describe('exai chat output', () => {
  it('--no-stream: the stats line gives time and tokens, no chunks, no first-token time, no rate', async () => {
    emu.setOptions({ paceMs: 5 });
    const run = await runExai(['chat', '--no-stream', '--model', 'glm-4.5-flash', 'whole'], testEnv(emu));
    expect(run.code).toBe(0);
    const stats = run.stderr.trim();
    expect(stats).toMatch(/^glm-4\.5-flash · \d+\.\d\d s · \d+ tokens · not streamed$/);
    expect(stats).not.toMatch(/chunks|ttft|tok\/s/);
  });

  it('a --max-tokens cut shows finish_reason length in the stats line', async () => {
    const run = await runExai(['chat', '--max-tokens', '4', '--model', 'glm-4.5-flash', 'cut'], testEnv(emu));
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/ · cut at the token limit \(finish_reason length\)\n$/);
  });

  it('a missing key is one line that points to --emulator', async () => {
    const run = await runExai(['chat', 'hi'], testEnv(emu, { GLM_API_KEY: '', KIMI_API_KEY: '' }));
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(/GLM_API_KEY is not set.*exai chat --emulator/),
    ]);
  });

  it('with stderr not a terminal, warnings are JSON lines', async () => {
    emu.script([{ type: 'status', status: 503 }]);
    const run = await runExai(
      ['chat', '--model', 'glm-4.5-flash', 'json logs'],
      testEnv(emu, { EXAI_LOG_LEVEL: 'info' }),
    );
    expect(run.code).toBe(0);
    const [log, stats] = run.stderr.trim().split('\n');
    expect(JSON.parse(log ?? '')).toMatchObject({ level: 'warn', msg: 'retrying' });
    expect(stats).toMatch(/· 1 retry$/);
  });

  it('with stdout and stderr in one file (2>&1), the stats line starts a line of its own', async () => {
    const file = join(CWD, 'stdout-and-stderr.txt');
    const fd = openSync(file, 'w');
    try {
      const child = spawn(process.execPath, [BIN, 'chat', '--model', 'glm-4.5-flash', 'one file'], {
        cwd: CWD,
        env: { PATH: process.env.PATH ?? '', ...testEnv(emu) },
        stdio: ['ignore', fd, fd],
      });
      const [code] = await once(child, 'exit');
      expect(code).toBe(0);
    } finally {
      closeSync(fd);
    }
    const text = readFileSync(file, 'utf8');
    const at = text.lastIndexOf('glm-4.5-flash · ');
    // The answer (which has no final newline of its own), then the stats on the next line.
    expect(at).toBeGreaterThan(0);
    expect(text[at - 1]).toBe('\n');
    expect(text.slice(0, at - 1).trim()).not.toBe('');
    expect(text.slice(at)).toMatch(/^glm-4\.5-flash · .* · streamed\n/);
  });

  it('EXAI_LOG_FORMAT with a bad value is a configuration error', async () => {
    const run = await runExai(['chat', 'x'], testEnv(emu, { EXAI_LOG_FORMAT: 'xml' }));
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/EXAI_LOG_FORMAT: expected json or human, got "xml"/);
  });

  it('--help lists the environment, .env and the exit codes', async () => {
    for (const args of [['--help'], ['chat', '--help']]) {
      const run = await runExai(args, {});
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/Environment \(a \.env file in the working directory is read too/);
      expect(run.stdout).toMatch(/GLM_API_KEY, KIMI_API_KEY/);
      expect(run.stdout).toMatch(/EXAI_LOG_FORMAT/);
      expect(run.stdout).toMatch(
        /Exit codes:\n {2}0 ok, 1 the request failed, 2 usage or configuration error, 130/,
      );
    }
    expect((await runExai(['chat', '--help'], {})).stdout).toMatch(/-i, --interactive/);
  });

  it('a prompt is needed without -i, and -i takes neither --json nor -', async () => {
    for (const args of [['chat'], ['chat', '-i', '--json'], ['chat', '-i', '-']]) {
      const run = await runExai(args, testEnv(emu));
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});

describe('the emulator footer', () => {
  it('follows an answer from --emulator', async () => {
    const run = await runExai(['chat', '--emulator', '--model', 'glm-4.5-flash', 'hi'], {
      EXAI_LOG_LEVEL: 'silent',
    });
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(FOOTER);
    expect(run.stderr).toMatch(/without --emulator/);
  }, 30_000);

  it('is not printed after Ctrl-C before the first token', async () => {
    // glm-4.6 reasons for about a second before its first answer token: Ctrl-C at its first reasoning token.
    let sent = false;
    const run = await runExai(
      ['chat', '--emulator', '--show-reasoning', '--model', 'glm-4.6', 'hi'],
      { EXAI_LOG_LEVEL: 'silent' },
      {
        onStderr: (_text, child) => {
          if (!sent) child.kill('SIGINT');
          sent = true;
        },
      },
    );
    expect(run.stdout).toBe('');
    expect(run.code).toBe(130);
    expect(run.stderr).toMatch(/interrupted/);
    expect(run.stderr).not.toMatch(FOOTER);
  }, 30_000);

  it('is not printed after a usage error found when the request is built', async () => {
    // glm-4.5v's 64K context window cannot hold this prompt: refused before anything is sent.
    const run = await runExai(
      ['chat', '--emulator', '--model', 'glm-4.5v', '-'],
      { EXAI_LOG_LEVEL: 'silent' },
      {
        input: 'word '.repeat(100_000),
      },
    );
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/prompt too long for glm-4.5v/);
    expect(run.stderr).not.toMatch(FOOTER);
  }, 30_000);
});
