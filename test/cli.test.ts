// The built `exai` binary against the emulator: output streams, exit codes, errors, Ctrl-C, no key leaks.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, emulatorAnswer, startEmulator } from '../src/emulator/index.js';
import { MODELS } from '../src/providers/catalog.js';
import { TEST_KEY, testEnv } from './helpers/setup.js';

const BIN = resolve(import.meta.dirname, '../dist/cli/main.js');
// An empty working directory, so no developer's .env leaks into the tests.
const CWD = mkdtempSync(join(tmpdir(), 'exai-cli-'));

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator();
});
afterEach(() => {
  emu.reset();
  emu.setOptions({ paceMs: 0 });
});
afterAll(async () => {
  await emu.close();
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  child: ChildProcess;
}

function exai(
  args: string[],
  env: Record<string, string> = testEnv(emu),
  onStdout?: (s: string, child: ChildProcess) => void,
) {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: CWD,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  child.stdin?.end();
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (s: string) => {
    stdout += s;
    onStdout?.(s, child);
  });
  child.stderr?.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
  });
  return new Promise<Run>((done) => child.on('close', (code) => done({ code, stdout, stderr, child })));
}

const messages = (prompt: string) => [{ role: 'user' as const, content: prompt }];

describe('exai chat', () => {
  it('streams the exact answer to stdout and a stats line to stderr', async () => {
    const run = await exai(['chat', '--model', 'glm-4.5-flash', 'hello there']);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      emulatorAnswer('glm', { model: 'glm-4.5-flash', messages: messages('hello there') }).content,
    );
    expect(run.stderr).toMatch(/glm-4\.5-flash · ttft \d+ ms · .* chunks · .* streamed/);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('writes tokens to stdout while the emulator is still sending', async () => {
    emu.setOptions({ paceMs: 25 });
    let sendingWhenFirstSeen: boolean | undefined;
    const run = await exai(['chat', '--model', 'kimi-k2-0905-preview', 'pace'], testEnv(emu), () => {
      sendingWhenFirstSeen ??= emu.requests.at(-1)?.endedAt === undefined;
    });
    expect(run.code).toBe(0);
    expect(sendingWhenFirstSeen).toBe(true);
  });

  it('--json prints one ChatResult on stdout', async () => {
    const run = await exai(['chat', '--json', '--provider', 'kimi', 'json please']);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result.content).toBe(
      emulatorAnswer('kimi', { model: 'kimi-k2-0905-preview', messages: messages('json please') }).content,
    );
    expect(result.metadata).toMatchObject({ provider: 'kimi', streamed: true, interrupted: false });
  });

  it('--no-stream makes a non-streaming request', async () => {
    const run = await exai(['chat', '--json', '--no-stream', 'glm no stream']);
    expect(run.code).toBe(0);
    expect(emu.requests.at(-1)?.stream).toBe(false);
    expect(JSON.parse(run.stdout).metadata.streamed).toBe(false);
  });

  it('--show-reasoning prints reasoning to stderr and only the answer to stdout', async () => {
    const run = await exai(['chat', '--model', 'glm-4.6', '--show-reasoning', 'reason aloud']);
    const expected = emulatorAnswer('glm', { model: 'glm-4.6', messages: messages('reason aloud') });
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(expected.content);
    expect(run.stderr).toContain(expected.reasoning);
  });

  it('reads the prompt from stdin with -', async () => {
    const child = spawn(process.execPath, [BIN, 'chat', '--json', '-'], {
      cwd: CWD,
      env: { PATH: process.env.PATH ?? '', ...testEnv(emu) },
    });
    child.stdin.end('from stdin');
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      out += s;
    });
    const code = await new Promise((r) => child.on('close', r));
    expect(code).toBe(0);
    expect(JSON.parse(out).content).toBe(
      emulatorAnswer('glm', { model: 'glm-4.6', messages: messages('from stdin') }).content,
    );
  });

  it('a missing key is one clear line and exit 2', async () => {
    const env = testEnv(emu, { GLM_API_KEY: '', KIMI_API_KEY: '' });
    const run = await exai(['chat', 'hi'], env);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/GLM_API_KEY is not set/);
  });

  it('a malformed env value is a clear config error, exit 2', async () => {
    const run = await exai(['chat', 'hi'], testEnv(emu, { GLM_STREAM_ENABLED: 'maybe' }));
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/GLM_STREAM_ENABLED.*maybe/);
  });

  it('bad usage exits 2: unknown option, unknown model prefix, empty prompt', async () => {
    for (const args of [
      ['chat', '--bogus', 'x'],
      ['chat', '--model', 'gpt-4o', 'x'],
      ['chat', '   '],
    ]) {
      const run = await exai(args);
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr.length).toBeGreaterThan(0);
    }
  });

  it('a provider error is one line with status and provider message, exit 1, and never the key', async () => {
    emu.script([{ type: 'status', status: 401 }]);
    const run = await exai(['chat', '--provider', 'kimi', 'who am i']);
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split('\n')).toHaveLength(1);
    expect(run.stderr).toMatch(/kimi API error 401.*Invalid Authentication/);
    expect(run.stdout + run.stderr).not.toContain(TEST_KEY);
  });

  it('the key never appears in any output, even at debug log level', async () => {
    const run = await exai(['chat', '--json', 'secret check'], testEnv(emu, { EXAI_LOG_LEVEL: 'debug' }));
    expect(run.code).toBe(0);
    expect(run.stdout + run.stderr).not.toContain(TEST_KEY);
  });

  it('Ctrl-C stops the request, keeps the partial answer on stdout and exits 130', async () => {
    emu.setOptions({ paceMs: 30 });
    const expected = emulatorAnswer('glm', {
      model: 'glm-4.5-flash',
      messages: messages('interrupt me'),
    }).content;
    const closed = new Promise<void>((r) => emu.on('client-closed', () => r()));
    let sent = false;
    const run = await exai(
      ['chat', '--model', 'glm-4.5-flash', 'interrupt me'],
      testEnv(emu),
      (_s, child) => {
        if (!sent) {
          sent = true;
          setTimeout(() => child.kill('SIGINT'), 100);
        }
      },
    );
    await closed;
    expect(run.code).toBe(130);
    expect(run.stdout.length).toBeGreaterThan(0);
    expect(expected.startsWith(run.stdout)).toBe(true);
    expect(run.stdout.length).toBeLessThan(expected.length);
    expect(run.stderr).toMatch(/interrupted/);
  });

  it.each([[[]], [['--json']]])('exits quietly when the reader of stdout goes away (%j)', async (extra) => {
    emu.setOptions({ paceMs: 2 });
    const child = spawn(process.execPath, [BIN, 'chat', ...extra, 'closed pipe'], {
      cwd: CWD,
      env: { PATH: process.env.PATH ?? '', ...testEnv(emu) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    // The reader closes its end at once, like `exai chat … | head -c 1` after one byte.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (t: string) => {
      stderr += t;
    });
    const code = await new Promise((r) => child.on('close', r));
    expect(stderr).not.toMatch(/Unhandled|EPIPE|at /);
    expect(code).toBe(0);
  });

  it('--emulator answers with no key at all', async () => {
    const run = await exai(['chat', '--emulator', '--json', 'demo'], { EXAI_LOG_LEVEL: 'silent' });
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).content.length).toBeGreaterThan(0);
    expect(run.stderr).toMatch(/built-in emulator/);
  }, 60_000);
});

describe('exai models and help', () => {
  it('lists every model with context window, streaming and key status', async () => {
    const run = await exai(['models'], testEnv(emu, { KIMI_API_KEY: '', KIMI_STREAM_ENABLED: 'no' }));
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      /glm\s+glm-4\.6 \(default\)\s+200K\s+128K\s+optional\s+none\s+legacy\s+2026-12-01/,
    );
    expect(run.stdout).toMatch(/kimi\s+kimi-k3\s+1M\s+1M\s+always\s+video\s+current\s+2026-12-01/);
    expect(run.stdout).toMatch(/^glm: .*key set, streaming on$/m);
    expect(run.stdout).toMatch(/^kimi: .*key missing, streaming off$/m);
    const json = JSON.parse((await exai(['models', '--json'])).stdout);
    expect(json).toHaveLength(MODELS.length);
  });

  it('--help works for every command and exits 0', async () => {
    for (const cmd of [[], ['chat'], ['models'], ['serve'], ['emulator']]) {
      const run = await exai([...cmd, '--help']);
      expect(run.code, cmd.join(' ')).toBe(0);
      expect(run.stdout).toMatch(/Usage: exai/);
    }
  });
});
