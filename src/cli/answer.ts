// One answer to the terminal: streams content to stdout as it arrives (respecting a slow reader),
// reasoning to stderr, a spinner while waiting. Shared by `exai chat` and `exai chat -i`.
import { once } from 'node:events';
import type { ExaiClient } from '../client.js';
import type { ChatCompletionCreateParams, ChatResult } from '../types.js';
import type { Screen } from './terminal.js';

export interface AnswerOptions {
  showReasoning?: boolean;
  /** Collect only: the caller prints the result as JSON. */
  json?: boolean;
  /** Aborts the request (Ctrl-C, the stdout reader going away). */
  signal: AbortSignal;
  /** True once stdout's reader went away: stop writing, finish quietly. */
  pipeClosed(): boolean;
  /** End the answer with a newline even on a pipe (a session's turns must not run together). */
  endLine?: boolean;
}

export interface Answer {
  result: ChatResult | undefined;
  /** What went wrong, if anything (an error thrown by create, the iterator or finalResult). */
  failure: unknown;
  /** Answer text that reached stdout. */
  shown: string;
}

export async function streamAnswer(
  client: ExaiClient,
  params: ChatCompletionCreateParams & { stream: true },
  screen: Screen,
  opts: AnswerOptions,
): Promise<Answer> {
  const model = params.model ?? client.config.defaultModel;
  const stdout = screen.stdout;
  screen.spin(`waiting for ${model}…`);
  let result: ChatResult | undefined;
  let failure: unknown;
  let shown = '';
  try {
    const stream = await client.chat.completions.create(params, { signal: opts.signal });
    try {
      for await (const chunk of stream) {
        const delta = chunk.choices[0]?.delta;
        if (!delta) continue;
        if (delta.reasoning_content) {
          if (opts.showReasoning) screen.reasoning(delta.reasoning_content);
          else screen.spin(`${model} is thinking…`);
        }
        if (delta.content) {
          screen.stopSpin();
          screen.endReasoning();
          if (opts.json || opts.pipeClosed()) continue;
          shown += delta.content;
          screen.wroteAnswer(delta.content);
          // Respect a slow reader on the other end of a pipe instead of buffering without bound.
          if (!stdout.write(delta.content)) await drained(stdout, opts.signal);
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
    if (opts.endLine && shown && !shown.endsWith('\n') && !opts.pipeClosed()) {
      stdout.write('\n');
      screen.wroteAnswer('\n');
    }
    await screen.endAnswer();
  }
  return { result, failure, shown };
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
