// `exai chat`: streams one answer to stdout as it arrives; reasoning, spinner and stats go to stderr.
import { AbortError, UsageError } from '../errors.js';
import { redact } from '../log.js';
import { promptRequest } from '../prompt.js';
import { streamAnswer } from './answer.js';
import { type ChatCommandOptions, EMULATOR_FOOTER, EXIT, setUpChat } from './setup.js';
import { statsLine } from './stats.js';
import { Screen } from './terminal.js';

export { type ChatCommandOptions, EXIT } from './setup.js';

const STDIN_HINT = 'Type your prompt, then press Ctrl-D on a new line to send it (Ctrl-C cancels).\n';

/** The prompt: the argument, or all of stdin for `-` (Ctrl-C while reading rejects with AbortError). */
export async function readPrompt(
  arg: string,
  signal?: AbortSignal,
  stdin: NodeJS.ReadStream = process.stdin,
  stderr: NodeJS.WriteStream = process.stderr,
): Promise<string> {
  let text = arg;
  if (arg === '-') {
    // A terminal on stdin would otherwise wait silently for an end-of-file nobody knows to send.
    if (stdin.isTTY) stderr.write(STDIN_HINT);
    text = await readAll(stdin, signal);
  }
  if (!text.trim()) throw new UsageError('the prompt is empty');
  return text;
}

function readAll(stdin: NodeJS.ReadStream, signal?: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    const onData = (b: Buffer | string) => parts.push(Buffer.isBuffer(b) ? b : Buffer.from(b));
    const finish = (error?: Error) => {
      stdin.off('data', onData).off('end', onEnd).off('error', finish);
      signal?.removeEventListener('abort', onAbort);
      stdin.pause();
      if (error) reject(error);
      else resolve(Buffer.concat(parts).toString('utf8'));
    };
    const onEnd = () => finish();
    const onAbort = () => finish(new AbortError('interrupted while reading the prompt'));
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    stdin.on('data', onData).once('end', onEnd).once('error', finish);
  });
}

/** Runs one chat; resolves with the exit code. `signal` is Ctrl-C. */
export async function runChatCommand(
  promptArg: string,
  opts: ChatCommandOptions,
  signal: AbortSignal,
): Promise<number> {
  const screen = new Screen({ stdout: process.stdout, stderr: process.stderr });
  const stderr = screen.stderr;
  let prompt: string;
  try {
    prompt = await readPrompt(promptArg, signal);
  } catch (error) {
    if (!(error instanceof AbortError)) throw error;
    stderr.write('\nexai: interrupted\n');
    return EXIT.interrupted;
  }
  const setup = await setUpChat(opts, screen);
  // A reader that goes away (`exai chat … | head`) ends the request quietly, as Unix tools do.
  const request = new AbortController();
  const onInterrupt = () => request.abort();
  signal.addEventListener('abort', onInterrupt, { once: true });
  let pipeClosed = false;
  // Stays attached after the command: Node reports an EPIPE on the tick after the last write.
  screen.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') {
      stderr.write(`exai: cannot write the answer: ${error.message}\n`);
      process.exitCode = EXIT.failed;
    }
    pipeClosed = true;
    request.abort();
  });
  try {
    const client = setup.client(opts.model, opts.provider);
    const model = opts.model ?? client.config.defaultModel;
    const params = promptRequest({
      prompt,
      system: opts.system,
      model,
      temperature: opts.temperature,
      maxTokens: opts.maxTokens,
    });
    const { result, failure } = await streamAnswer(client, params, screen, {
      showReasoning: opts.showReasoning,
      json: opts.json,
      signal: request.signal,
      pipeClosed: () => pipeClosed,
    });
    if (result && opts.json) screen.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    if (result) stderr.write(`${screen.dim(statsLine(result))}\n`);
    if (pipeClosed) return EXIT.ok;
    if (signal.aborted || failure instanceof AbortError) {
      stderr.write('exai: interrupted\n');
      return EXIT.interrupted;
    }
    // The footer belongs to an answer the emulator gave, not to an error or a cancelled wait.
    if (opts.emulator && result && result.content !== '') stderr.write(EMULATOR_FOOTER);
    if (failure !== undefined) throw failure;
    if (result?.error) {
      stderr.write(`exai: ${redact(result.error.message)}\n`);
      return EXIT.failed;
    }
    return EXIT.ok;
  } finally {
    signal.removeEventListener('abort', onInterrupt);
    await setup.close();
  }
}
