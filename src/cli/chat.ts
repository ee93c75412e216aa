// `exai chat`: streams an answer to stdout as it arrives; reasoning, spinner and stats go to stderr.
import { once } from 'node:events';
import { createClient } from '../client.js';
import { chooseProvider, loadConfig } from '../config/index.js';
import { AbortError, UsageError } from '../errors.js';
import { createLogger, redact } from '../log.js';
import { promptRequest } from '../prompt.js';
import type { ChatResult, ProviderName } from '../types.js';
import { createDecor, statsLine } from './terminal.js';

export interface ChatCommandOptions {
  provider?: ProviderName;
  model?: string;
  system?: string;
  temperature?: number;
  maxTokens?: number;
  /** false with `--no-stream`. */
  stream: boolean;
  showReasoning?: boolean;
  json?: boolean;
  emulator?: boolean;
}

export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

/** Any non-empty key works with the emulator; this one cannot collide with words in messages. */
const EMULATOR_KEY = 'exai-emulator-key';

export async function readPrompt(arg: string, stdin: NodeJS.ReadableStream = process.stdin): Promise<string> {
  let text = arg;
  if (arg === '-') {
    const parts: Buffer[] = [];
    for await (const b of stdin) parts.push(Buffer.isBuffer(b) ? b : Buffer.from(String(b)));
    text = Buffer.concat(parts).toString('utf8');
  }
  if (!text.trim()) throw new UsageError('the prompt is empty');
  return text;
}

/** Runs one chat; resolves with the exit code. `signal` is Ctrl-C. */
export async function runChatCommand(
  promptArg: string,
  opts: ChatCommandOptions,
  signal: AbortSignal,
): Promise<number> {
  const stdout = process.stdout;
  const stderr = process.stderr;
  const decor = createDecor(stderr);
  const prompt = await readPrompt(promptArg);
  let config = loadConfig();
  let closeEmulator: (() => Promise<void>) | undefined;
  if (opts.emulator) {
    const { startEmulator } = await import('../emulator/index.js');
    // Paced like a real model (about 40 tokens/s) so a newcomer sees tokens arrive.
    const emu = await startEmulator({ paceMs: 25, firstChunkDelayMs: 300, words: 90 });
    closeEmulator = () => emu.close();
    config = {
      ...config,
      glm: { ...config.glm, apiKey: EMULATOR_KEY, baseURL: emu.baseURL('glm') },
      kimi: { ...config.kimi, apiKey: EMULATOR_KEY, baseURL: emu.baseURL('kimi') },
    };
  }
  // A reader that goes away (`exai chat … | head`) ends the request quietly, as Unix tools do.
  const request = new AbortController();
  const onInterrupt = () => request.abort();
  signal.addEventListener('abort', onInterrupt, { once: true });
  let pipeClosed = false;
  // Stays attached after the command: Node reports an EPIPE on the tick after the last write.
  const onStdoutError = (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') {
      process.stderr.write(`exai: cannot write the answer: ${error.message}\n`);
      process.exitCode = EXIT.failed;
    }
    pipeClosed = true;
    request.abort();
  };
  stdout.on('error', onStdoutError);
  try {
    const provider = chooseProvider(config, opts.provider, opts.model);
    const client = createClient(provider, {
      config,
      logger: createLogger(config.logLevel),
      ...(opts.stream ? {} : { streamEnabled: false }),
    });
    const model = opts.model ?? client.config.defaultModel;

    decor.spin(`waiting for ${model}…`);
    let result: ChatResult | undefined;
    let failure: unknown;
    let wroteContent = false;
    let lastChar = '';
    let reasoningOpen = false;
    try {
      const stream = await client.chat.completions.create(
        promptRequest({
          prompt,
          system: opts.system,
          model,
          temperature: opts.temperature,
          maxTokens: opts.maxTokens,
        }),
        { signal: request.signal },
      );
      try {
        for await (const chunk of stream) {
          const delta = chunk.choices[0]?.delta;
          if (!delta) continue;
          if (delta.reasoning_content) {
            if (opts.showReasoning) {
              decor.stopSpin();
              stderr.write(decor.dim(delta.reasoning_content));
              reasoningOpen = true;
            } else decor.spin(`${model} is thinking…`);
          }
          if (delta.content) {
            decor.stopSpin();
            if (reasoningOpen) {
              stderr.write('\n\n');
              reasoningOpen = false;
            }
            if (opts.json) continue;
            wroteContent = true;
            lastChar = delta.content.slice(-1);
            // Respect a slow reader on the other end of a pipe instead of buffering without bound.
            if (pipeClosed) continue;
            if (!stdout.write(delta.content)) await drained(stdout, request.signal);
          }
        }
      } catch (error) {
        failure = error;
      }
      result = await stream.finalResult().catch((error: unknown) => {
        failure ??= error;
        return undefined;
      });
    } catch (error) {
      failure = error;
    } finally {
      decor.stopSpin();
    }
    if (reasoningOpen) stderr.write('\n');
    if (wroteContent && lastChar !== '\n' && stdout.isTTY) stdout.write('\n');

    if (result && opts.json) stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    if (result) stderr.write(`${decor.dim(statsLine(result))}\n`);
    if (opts.emulator) {
      stderr.write(
        'This answer came from the built-in emulator. To use a real model, set GLM_API_KEY (or KIMI_API_KEY) and run:\n' +
          '  npx exai chat "your question"\n',
      );
    }
    if (pipeClosed) return EXIT.ok;
    if (signal.aborted || failure instanceof AbortError) {
      stderr.write('exai: interrupted\n');
      return EXIT.interrupted;
    }
    if (failure !== undefined) throw failure;
    if (result?.error) {
      stderr.write(`exai: ${redact(result.error.message)}\n`);
      return EXIT.failed;
    }
    return EXIT.ok;
  } finally {
    signal.removeEventListener('abort', onInterrupt);
    await closeEmulator?.();
  }
}

/** Waits for `drain` on `out` or for `signal` to abort, whichever comes first, leaving no listener. */
async function drained(out: NodeJS.WritableStream, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return;
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    await once(out, 'drain', { signal: stop.signal });
  } catch {
    // Aborted: the request is over, nothing more will be written.
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}
