// `exai chat -i`: a prompt loop that keeps one conversation and streams each answer. Ctrl-C
// cancels the answer being written and keeps the session; Ctrl-D or /exit leaves.
import { createInterface, type Interface } from 'node:readline';
import type { ExaiClient } from '../client.js';
import { AbortError } from '../errors.js';
import { redact } from '../log.js';
import type { ChatMessage } from '../types.js';
import { streamAnswer } from './answer.js';
import { type ChatCommandOptions, EXIT, setUpChat } from './setup.js';
import { statsLine } from './stats.js';
import { Screen } from './terminal.js';

const COMMANDS =
  'commands: /model <id> switches the model, /system <text> sets the system prompt (/system alone clears it), ' +
  '/reset forgets the conversation, /exit leaves (so does Ctrl-D)';

/** Lines typed (or piped) one at a time; the terminal is left in its normal mode between reads. */
class LineReader {
  private readonly queue: string[] = [];
  private waiting: ((line: string | null) => void) | undefined;
  private closed = false;
  private interruptedOnce = false;

  constructor(
    private readonly rl: Interface,
    private readonly stdin: NodeJS.ReadStream,
    private readonly terminal: boolean,
    private readonly say: (text: string) => void,
    private readonly onLeave: () => void,
  ) {
    rl.on('line', (line) => {
      this.interruptedOnce = false;
      this.deliver(line);
    });
    rl.on('close', () => {
      this.closed = true;
      // Ctrl-D at the prompt: end the prompt's line so the shell's prompt starts a fresh one.
      if (this.waiting && terminal) this.say('');
      this.deliver(null);
    });
    // At the prompt the terminal is raw, so Ctrl-C is a key for readline, not a signal.
    rl.on('SIGINT', () => {
      if (rl.line) {
        // Like a shell: Ctrl-C drops the whole line typed so far.
        rl.write(null, { ctrl: true, name: 'e' });
        rl.write(null, { ctrl: true, name: 'u' });
        this.interruptedOnce = false;
      } else if (this.interruptedOnce) {
        this.onLeave();
        return;
      } else {
        this.interruptedOnce = true;
        this.say('\n(press Ctrl-C again, Ctrl-D or type /exit to leave)');
      }
      rl.prompt();
    });
    rl.pause();
  }

  private deliver(line: string | null): void {
    const waiting = this.waiting;
    if (waiting) {
      this.waiting = undefined;
      this.pause();
      waiting(line);
    } else if (line !== null) {
      this.queue.push(line);
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private pause(): void {
    // Node 24 throws on pausing a closed interface.
    if (!this.closed) this.rl.pause();
    // While an answer streams the terminal is in its normal mode: Ctrl-C is SIGINT again.
    if (this.terminal) this.stdin.setRawMode(false);
  }

  /** The next line, or null once the input ended (Ctrl-D, /exit, end of a pipe). */
  next(): Promise<string | null> {
    const queued = this.queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.closed) return Promise.resolve(null);
    return new Promise((resolve) => {
      this.waiting = resolve;
      if (this.terminal) this.stdin.setRawMode(true);
      this.rl.resume();
      this.rl.prompt();
    });
  }
}

export async function runInteractive(
  firstPrompt: string | undefined,
  opts: ChatCommandOptions,
): Promise<number> {
  const screen = new Screen({ stdout: process.stdout, stderr: process.stderr });
  const { stderr } = screen;
  const setup = await setUpChat({ ...opts, interactive: true }, screen);
  const stdin = process.stdin;
  const terminal = stdin.isTTY === true && stderr.isTTY === true;
  const say = (text: string) => stderr.write(`${text}\n`);
  let model = opts.model;
  let system = opts.system;
  let history: ChatMessage[] = [];
  let turn: AbortController | undefined;
  let exitCode: number = EXIT.ok;

  const rl = createInterface({ input: stdin, output: stderr, terminal, prompt: terminal ? '› ' : '' });
  const leave = (code: number) => {
    exitCode = code;
    if (!reader.isClosed) rl.close();
  };
  const reader = new LineReader(rl, stdin, terminal, say, () => leave(EXIT.ok));
  // Outside the prompt (an answer streaming) Ctrl-C arrives as a signal: it cancels that answer.
  const onSigint = () => (turn ? turn.abort() : leave(EXIT.interrupted));
  const onSigterm = () => {
    turn?.abort();
    leave(EXIT.interrupted);
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);

  try {
    let client: ExaiClient = setup.client(model, opts.provider);
    model ??= client.config.defaultModel;
    if (terminal) say(screen.dim(`exai chat with ${model}. ${COMMANDS}. Ctrl-C cancels an answer.`));

    const ask = async (prompt: string) => {
      const messages: ChatMessage[] = [...history, { role: 'user', content: prompt }];
      turn = new AbortController();
      const { result, failure, shown } = await streamAnswer(
        client,
        {
          model: model ?? client.config.defaultModel,
          messages: system ? [{ role: 'system', content: system }, ...messages] : messages,
          stream: true,
          ...(opts.temperature !== undefined ? { temperature: opts.temperature } : {}),
          ...(opts.maxTokens !== undefined ? { max_tokens: opts.maxTokens } : {}),
        },
        screen,
        { showReasoning: opts.showReasoning, signal: turn.signal, pipeClosed: () => false, endLine: true },
      );
      const cancelled = turn.signal.aborted || failure instanceof AbortError;
      turn = undefined;
      if (result) say(screen.dim(statsLine(result)));
      // The conversation keeps what was shown, a cancelled answer's part included.
      const text = result?.content ?? shown;
      if (text) history = [...messages, { role: 'assistant', content: text }];
      if (cancelled) say(screen.dim(text ? '(cancelled; the part shown is kept)' : '(cancelled)'));
      else if (failure !== undefined || result?.error) {
        const message =
          result?.error?.message ?? (failure instanceof Error ? failure.message : String(failure));
        say(`exai: ${redact(message)}`);
      }
    };

    if (firstPrompt?.trim()) await ask(firstPrompt);
    for (let line = await reader.next(); line !== null; line = await reader.next()) {
      const input = line.trim();
      if (!input) continue;
      if (!input.startsWith('/')) {
        await ask(line);
        continue;
      }
      const [command = '', ...rest] = input.split(/\s+/);
      const arg = input.slice(command.length).trim();
      switch (command) {
        case '/exit':
        case '/quit':
          leave(EXIT.ok);
          break;
        case '/reset':
          history = [];
          say('(conversation forgotten)');
          break;
        case '/system':
          system = arg || undefined;
          say(system ? '(system prompt set)' : '(system prompt cleared)');
          break;
        case '/model':
          if (!rest.length) {
            say(`(model: ${model})`);
            break;
          }
          try {
            client = setup.client(arg, undefined);
            model = arg;
            say(`(model: ${model}; the conversation is kept)`);
          } catch (error) {
            say(`exai: ${redact((error as Error).message)}`);
          }
          break;
        case '/help':
          say(COMMANDS);
          break;
        default:
          say(`unknown command ${command}; ${COMMANDS}`);
      }
    }
    return exitCode;
  } finally {
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
    if (!reader.isClosed) rl.close();
    if (terminal) stdin.setRawMode(false);
    stdin.pause();
    await setup.close();
  }
}
