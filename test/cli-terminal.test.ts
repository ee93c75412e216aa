// `exai chat` as a person sees it, in a real pseudo-terminal (tmux): where the stats line lands,
// what warnings look like next to the spinner, the `chat -` hint. Screens are read, not mocked.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, emulatorAnswer, startEmulator } from '../src/emulator/index.js';
import { BIN, CWD, sh } from './helpers/cli.js';
import { testEnv } from './helpers/setup.js';
import { HAS_TMUX, Pane } from './helpers/tmux.js';

const MODEL = 'glm-4.5-flash';
const answerTo = (prompt: string) =>
  emulatorAnswer('glm', { model: MODEL, messages: [{ role: 'user', content: prompt }] }, { words: 20 })
    .content;
const exai = (args: string) => `${sh(process.execPath)} ${sh(BIN)} ${args}`;

let emu: Emulator;
let panes: Pane[] = [];
beforeAll(async () => {
  emu = await startEmulator({ words: 20 });
});
afterEach(() => {
  for (const p of panes) p.kill();
  panes = [];
  emu.reset();
});
afterAll(async () => {
  await emu.close();
});

function run(command: string, env: Record<string, string> = {}): Pane {
  const pane = Pane.start(`cd ${sh(CWD)} && ${command}`, { ...testEnv(emu), ...env });
  panes.push(pane);
  return pane;
}

/** The lines the command printed (the screen starts with them: no shell prompt in the pane). */
const lines = (screen: string) => screen.split('\n');

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

describe.skipIf(!HAS_TMUX)('exai chat on a terminal (tmux)', () => {
  it('with stdout piped through cat, the stats line and the next prompt start lines of their own', async () => {
    const prompt = 'piped to cat';
    const { code, screen } = await run(`${exai(`chat --model ${MODEL} ${sh(prompt)}`)} | cat`).exit();
    expect(code).toBe(0);
    const shown = lines(screen);
    expect(shown[0]).toBe(answerTo(prompt).trimEnd());
    expect(shown[1]).toMatch(new RegExp(`^${MODEL} · ttft \\d+ ms`));
    expect(shown).toHaveLength(2);
  });

  it('with stdout redirected to a file, the file holds the exact answer and the terminal the stats line', async () => {
    const prompt = 'into a file';
    const file = join(CWD, 'answer.txt');
    const { code, screen } = await run(`${exai(`chat --model ${MODEL} ${sh(prompt)}`)} > ${sh(file)}`).exit();
    expect(code).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(answerTo(prompt));
    expect(lines(screen)).toEqual([expect.stringMatching(new RegExp(`^${MODEL} · ttft`))]);
  });

  it('with stdout on the terminal, the answer ends its line and the stats follow on the next', async () => {
    const prompt = 'on the terminal';
    const { code, screen } = await run(exai(`chat --model ${MODEL} ${sh(prompt)}`)).exit();
    expect(code).toBe(0);
    expect(lines(screen)[0]).toBe(answerTo(prompt).trimEnd());
    expect(lines(screen)[1]).toMatch(new RegExp(`^${MODEL} · ttft`));
  });

  it('a retry shows as the spinner status, never as a JSON line, and the stats count it', async () => {
    emu.script([{ type: 'status', status: 429, retryAfter: '1' }]);
    const pane = run(exai(`chat --model ${MODEL} retried`), { EXAI_LOG_LEVEL: 'info' });
    const waiting = await pane.waitFor(/retrying/);
    expect(waiting).toMatch(/^. waiting for glm-4\.5-flash… \(retrying.*429/);
    const { code, screen } = await pane.exit();
    expect(code).toBe(0);
    expect(screen).not.toContain('{"time"');
    expect(lines(screen)[0]).toBe(answerTo('retried').trimEnd());
    expect(lines(screen)[1]).toMatch(/· 1 retry/);
  });

  it('a warning during the answer waits for the answer to end, then shows as a line for people', async () => {
    emu.script([{ type: 'drop', afterChunks: 8 }]);
    const pane = run(exai(`chat --model ${MODEL} recovered`), { EXAI_LOG_LEVEL: 'info' });
    const { code, screen } = await pane.exit();
    expect(code).toBe(0);
    const shown = lines(screen);
    expect(shown[0]).toBe(answerTo('recovered').trimEnd());
    expect(shown[1]).toMatch(/^exai: warning: stream broke after new text; asking the provider to continue/);
    expect(shown[2]).toMatch(/ · recovered$/);
    expect(shown).toHaveLength(3);
  });

  it('a refused connection is one error line, not a warning per retry', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/v4`;
    const pane = run(exai('chat refused'), { GLM_BASE_URL: url, EXAI_LOG_LEVEL: 'info' });
    const { code, screen } = await pane.exit(30_000);
    expect(code).toBe(1);
    expect(lines(screen)).toEqual([expect.stringMatching(/^exai: glm connection error: .*ECONNREFUSED/)]);
  }, 40_000);

  it('EXAI_LOG_FORMAT=json keeps JSON lines on a terminal, each on a line of its own', async () => {
    const url = `http://127.0.0.1:${await closedPort()}/v4`;
    const pane = run(exai('chat refused'), {
      GLM_BASE_URL: url,
      EXAI_LOG_LEVEL: 'info',
      EXAI_LOG_FORMAT: 'json',
    });
    const { code, screen } = await pane.exit(30_000);
    expect(code).toBe(1);
    const shown = lines(screen);
    expect(shown.at(-1)).toMatch(/^exai: glm connection error/);
    const logs = shown.slice(0, -1);
    expect(logs.length).toBeGreaterThan(0);
    for (const line of logs) expect(JSON.parse(line)).toMatchObject({ level: 'warn' });
  }, 40_000);

  it('chat - on a terminal says how to send the prompt, and reads it up to Ctrl-D', async () => {
    const pane = run(exai(`chat --model ${MODEL} -`));
    await pane.waitFor(/Ctrl-D/);
    pane.type('typed prompt');
    pane.keys('Enter', 'C-d');
    const { code, screen } = await pane.exit();
    expect(code).toBe(0);
    expect(screen).toContain(answerTo('typed prompt\n').trimEnd());
  });

  it('Ctrl-C while chat - waits for the prompt stops it at once with exit 130', async () => {
    const pane = run(exai(`chat --model ${MODEL} -`));
    await pane.waitFor(/Ctrl-D/);
    pane.keys('C-c');
    const { code, screen } = await pane.exit(5_000);
    expect(code).toBe(130);
    expect(screen).toMatch(/exai: interrupted$/);
    expect(emu.requests).toHaveLength(0);
  });

  it('--max-tokens cut: the stats line says the answer stopped at the token limit', async () => {
    const { code, screen } = await run(exai(`chat --model ${MODEL} --max-tokens 3 cut`)).exit();
    expect(code).toBe(0);
    expect(lines(screen)[1]).toMatch(/cut at the token limit \(finish_reason length\)$/);
  });
});
