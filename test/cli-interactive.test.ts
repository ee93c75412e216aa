// `exai chat -i` in a real pseudo-terminal (tmux): a conversation kept across turns, Ctrl-C that
// cancels only the answer being written, /system, /reset, /model, and Ctrl-D to leave.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../src/emulator/index.js';
import { BIN, CWD, sh } from './helpers/cli.js';
import { testEnv } from './helpers/setup.js';
import { HAS_TMUX, Pane } from './helpers/tmux.js';

const MODEL = 'glm-4.5-flash';

let emu: Emulator;
let pane: Pane | undefined;
beforeAll(async () => {
  emu = await startEmulator({ words: 20, echoMessages: true });
});
afterEach(() => {
  pane?.kill();
  pane = undefined;
  emu.reset();
  emu.setOptions({ paceMs: 0 });
});
afterAll(async () => {
  await emu.close();
});

function session(args = ''): Pane {
  const command = `cd ${sh(CWD)} && ${sh(process.execPath)} ${sh(BIN)} chat -i --model ${MODEL} ${args}`;
  pane = Pane.start(command, testEnv(emu));
  return pane;
}

/** Types one line and waits for the answer's stats line (the count of stats lines grows). */
async function turn(p: Pane, text: string): Promise<string> {
  const before = (p.screen().match(/ · streamed/g) ?? []).length;
  p.type(text);
  p.keys('Enter');
  return p.waitFor((s) => (s.match(/ · streamed/g) ?? []).length > before);
}

const bodyMessages = (i: number) =>
  (emu.requests[i]?.body?.messages ?? []) as Array<{ role: string; content: string }>;

describe.skipIf(!HAS_TMUX)('exai chat -i (tmux)', () => {
  it('keeps the conversation, and Ctrl-C cancels only the answer being written', async () => {
    const p = session();
    await p.waitFor(/(^|\n)›$/);
    let screen = await turn(p, 'What is SSE?');
    expect(screen).toMatch(/^\[1 message\] /m);

    // The second turn refers to the first: the emulator received both, and the first answer.
    screen = await turn(p, 'Say that again, shorter.');
    expect(screen).toMatch(/^\[3 messages\] /m);
    const second = bodyMessages(1);
    expect(second.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(second[1]?.content.startsWith('[1 message] ')).toBe(true);

    // Ctrl-C in the middle of the third answer: the session goes on.
    emu.setOptions({ paceMs: 60 });
    p.type('A long answer, please.');
    p.keys('Enter');
    await p.waitFor(/^\[5 messages\] \S+ \S+/m);
    p.keys('C-c');
    screen = await p.waitFor(/\(cancelled; the part shown is kept\)\n›$/);
    expect(screen).toMatch(/interrupted/);
    emu.setOptions({ paceMs: 0 });

    // A third turn after the cancel: the part shown is in the conversation.
    screen = await turn(p, 'Thanks. One more?');
    expect(screen).toMatch(/^\[7 messages\] /m);
    const fourth = bodyMessages(3);
    expect(fourth).toHaveLength(7);
    expect(fourth[5]?.content.startsWith('[5 messages] ')).toBe(true);

    p.keys('C-d');
    const { code } = await p.exit();
    expect(code).toBe(0);
  }, 60_000);

  it('/system, /reset and /model change what the next turn sends; /exit leaves with 0', async () => {
    const p = session();
    await p.waitFor(/(^|\n)›$/);
    await turn(p, 'first');
    p.type('/system Answer briefly.');
    p.keys('Enter');
    await p.waitFor(/\(system prompt set\)/);
    await turn(p, 'second');
    expect(bodyMessages(1)[0]).toEqual({ role: 'system', content: 'Answer briefly.' });
    expect(bodyMessages(1)).toHaveLength(4);

    p.type('/reset');
    p.keys('Enter');
    await p.waitFor(/\(conversation forgotten\)/);
    await turn(p, 'third');
    expect(bodyMessages(2).map((m) => m.role)).toEqual(['system', 'user']);

    p.type('/model kimi-k2-0905-preview');
    p.keys('Enter');
    await p.waitFor(/\(model: kimi-k2-0905-preview; the conversation is kept\)/);
    await turn(p, 'fourth');
    expect(emu.requests[3]).toMatchObject({ provider: 'kimi', model: 'kimi-k2-0905-preview' });
    expect(bodyMessages(3)).toHaveLength(4);

    p.type('/exit');
    p.keys('Enter');
    const { code } = await p.exit();
    expect(code).toBe(0);
  }, 60_000);

  it('Ctrl-C at an empty prompt says how to leave; a second Ctrl-C leaves', async () => {
    const p = session();
    await p.waitFor(/(^|\n)›$/);
    p.keys('C-c');
    await p.waitFor(/press Ctrl-C again, Ctrl-D or type \/exit to leave/);
    p.keys('C-c');
    const { code } = await p.exit();
    expect(code).toBe(0);
    expect(emu.requests).toHaveLength(0);
  });
});
