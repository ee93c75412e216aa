// One HTTP attempt against a provider: streaming (SSE, with first-token and idle watchdog) or not.
// Every token is handed to the run's `deliver` as soon as it is decoded.
import type { ProviderConfig, Timeouts } from '../config/index.js';
import { AbortError, abortReason, ConnectionError, ExaiError, StreamError, TimeoutError } from '../errors.js';
import { newChunkState } from '../providers/normalize.js';
import { type Completion, errorFromFrame, isErrorFrame, type Provider } from '../providers/provider.js';
import type { Transport } from '../providers/transport.js';
import type { ChatCompletionChunk } from '../types.js';
import { readBody, readText, untilDrainedOrAborted } from './body.js';
import { createSseDecoder } from './sse.js';
import { Watchdog } from './watchdog.js';

export interface AttemptContext {
  provider: Provider;
  config: ProviderConfig;
  transport: Transport;
  timeouts: Timeouts;
  userAgent: string;
  /** Aborts when the caller cancels or the total deadline passes; its reason says which. */
  signal: AbortSignal;
  /** Receives every decoded chunk; returns false to stop reading (output limit reached). */
  deliver(chunk: ChatCompletionChunk): boolean;
  /** Resolves when the consumer has room again (backpressure). */
  whenDrained(): Promise<void>;
  needsDrain(): boolean;
  /** Called once an attempt is answered with 200. */
  onOpen(): void;
}

export type StreamOutcome =
  | { kind: 'complete'; finishReason: string }
  | { kind: 'stopped' }
  | { kind: 'not-streamed'; completion: Completion };

const ERROR_BODY_LIMIT = 64 * 1024;

/** Failure of a streaming attempt, with how many tokens it had delivered before failing. */
export class AttemptError extends Error {
  constructor(
    readonly error: unknown,
    readonly tokens: number,
  ) {
    super(error instanceof Error ? error.message : String(error));
  }
}

function headers(ctx: AttemptContext, stream: boolean): Record<string, string> {
  return {
    authorization: `Bearer ${ctx.config.apiKey ?? ''}`,
    'content-type': 'application/json',
    accept: stream ? 'text/event-stream' : 'application/json',
    'user-agent': ctx.userAgent,
  };
}

/** Sends the request; non-2xx answers become the provider's APIError. */
async function open(
  ctx: AttemptContext,
  body: Record<string, unknown>,
  stream: boolean,
  signal: AbortSignal,
) {
  const url = `${ctx.config.baseURL}/chat/completions`;
  let res: Awaited<ReturnType<Transport['request']>>;
  try {
    res = await ctx.transport.request({
      url,
      headers: headers(ctx, stream),
      body: JSON.stringify(body),
      signal,
    });
  } catch (error) {
    throw mapNetworkError(ctx, error, signal);
  }
  if (res.status < 200 || res.status >= 300) {
    const text = await readText(res.body, ERROR_BODY_LIMIT).catch(() => '');
    throw ctx.provider.apiError(res.status, text, res.headers, ctx.config.baseURL);
  }
  return res;
}

function mapNetworkError(ctx: AttemptContext, error: unknown, signal: AbortSignal): unknown {
  if (signal.aborted) return abortReason(signal);
  if (error instanceof ExaiError) return error;
  const e = error as NodeJS.ErrnoException;
  const what =
    e.code === 'ECONNRESET' || e.message === 'aborted' ? 'connection closed by the server' : e.message;
  return new ConnectionError(
    ctx.provider.name,
    `${what}${e.code && e.code !== 'ECONNRESET' ? ` (${e.code})` : ''}`,
    {
      cause: error,
    },
  );
}

/** A non-streaming request: the whole completion in one JSON body. */
export async function completeOnce(ctx: AttemptContext, body: Record<string, unknown>): Promise<Completion> {
  const res = await open(ctx, body, false, ctx.signal);
  ctx.onOpen();
  try {
    const text = await readText(res.body, Number.POSITIVE_INFINITY);
    return parseCompletion(ctx, text, res.headers);
  } catch (error) {
    throw mapNetworkError(ctx, error, ctx.signal);
  }
}

function parseCompletion(
  ctx: AttemptContext,
  text: string,
  headers: Record<string, string | string[] | undefined>,
): Completion {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new StreamError(
      ctx.provider.name,
      'malformed',
      `unreadable completion body: ${(error as Error).message}`,
    );
  }
  // GLM has been seen answering HTTP 200 with an error body instead of a completion.
  const frame =
    typeof raw === 'object' && raw !== null && 'error' in raw ? ctx.provider.normalizeChunk(raw) : undefined;
  if (frame && isErrorFrame(frame)) throw errorFromFrame(ctx.provider.name, frame, headers);
  let completion: Completion;
  try {
    completion = ctx.provider.normalizeCompletion(raw);
  } catch (error) {
    throw new StreamError(
      ctx.provider.name,
      'malformed',
      `unreadable completion body: ${(error as Error).message}`,
    );
  }
  // GLM's `network_error` finish: the inference failed, as an error frame would say.
  if (completion.failure) throw errorFromFrame(ctx.provider.name, { error: completion.failure }, headers);
  return completion;
}

/** A streaming request. Resolves when the stream completed; rejects with an AttemptError otherwise. */
export async function streamOnce(
  ctx: AttemptContext,
  body: Record<string, unknown>,
  transform?: (chunk: ChatCompletionChunk) => void,
): Promise<StreamOutcome> {
  const attempt = new AbortController();
  const onOuterAbort = () => attempt.abort(ctx.signal.reason);
  if (ctx.signal.aborted) throw new AttemptError(ctx.signal.reason ?? new AbortError(), 0);
  ctx.signal.addEventListener('abort', onOuterAbort, { once: true });

  let received = 0;
  let finishReason: string | null = null;
  let stop = false;
  let fault: unknown;
  let tokens = 0;
  let res: Awaited<ReturnType<typeof open>> | undefined;
  const chunkState = newChunkState();
  const { firstTokenMs, idleMs } = ctx.timeouts;
  const watchdog = new Watchdog(firstTokenMs, idleMs, DONE_GRACE_MS, (what) => {
    // [DONE] came but the body never ended: close the connection ourselves.
    if (what === 'grace') res?.body.destroy();
    else attempt.abort(new TimeoutError(ctx.provider.name, what, what === 'idle' ? idleMs : firstTokenMs));
  });

  // Once the finish chunk is in, the answer is complete: whatever follows cannot spoil it.
  const setFault = (error: ExaiError) => {
    if (finishReason !== null) {
      watchdog.finish();
      watchdog.awaitEnd();
    } else fault ??= error;
  };
  const onData = (data: string) => {
    if (stop || fault || watchdog.done) return;
    if (data === '[DONE]') {
      watchdog.finish();
      // The body nearly always ends in the same read; the grace timer is armed only if it did not.
      queueMicrotask(() => {
        if (!res?.body.complete) watchdog.awaitEnd();
      });
      return;
    }
    let parsed: ReturnType<Provider['normalizeChunk']>;
    try {
      parsed = ctx.provider.normalizeChunk(JSON.parse(data), chunkState);
    } catch (error) {
      return setFault(
        new StreamError(ctx.provider.name, 'malformed', `unreadable chunk (${(error as Error).message})`),
      );
    }
    if (isErrorFrame(parsed)) return setFault(errorFromFrame(ctx.provider.name, parsed, res?.headers));
    received++;
    transform?.(parsed);
    for (const c of parsed.choices) if (c.finish_reason) finishReason = c.finish_reason;
    if (hasToken(parsed)) tokens++;
    if (!ctx.deliver(parsed)) stop = true;
  };
  const decoder = createSseDecoder({
    onData,
    onError: (e) => setFault(new StreamError(ctx.provider.name, 'malformed', e.message)),
  });
  const incomplete = () =>
    new StreamError(ctx.provider.name, 'incomplete', 'the stream ended before the answer was finished');

  try {
    res = await open(ctx, body, true, attempt.signal);
    const type = String(res.headers['content-type'] ?? '');
    if (!type.includes('text/event-stream')) {
      // A gateway that ignores `stream: true` answers with the whole completion as JSON.
      if (type.includes('json')) {
        ctx.onOpen();
        const text = await readText(res.body, Number.POSITIVE_INFINITY);
        return { kind: 'not-streamed', completion: parseCompletion(ctx, text, res.headers) };
      }
      res.body.destroy();
      throw new StreamError(
        ctx.provider.name,
        'bad-content-type',
        `expected text/event-stream, got "${type}"`,
      );
    }
    ctx.onOpen();
    await readBody(
      res.body,
      (buf) => {
        const before = received;
        const first = tokens === 0;
        decoder.push(buf);
        // Every chunk of one read arrived at the same moment: one clock read per read.
        if (received !== before) watchdog.chunks();
        if (stop || fault || (watchdog.done && finishReason === null)) return false;
        // The first token reaches the consumer before the rest of its burst is parsed.
        return first && tokens > 0 ? 'yield' : true;
      },
      () => {
        if (!ctx.needsDrain()) return undefined;
        watchdog.pause();
        return untilDrainedOrAborted(ctx.whenDrained, attempt.signal).then(() => watchdog.resume());
      },
    );
    if (!stop && !fault) decoder.end();
    if (stop) return { kind: 'stopped' };
    // A finish_reason makes the answer complete, [DONE] or not; without one the stream was cut.
    if (finishReason !== null) return { kind: 'complete', finishReason };
    throw fault ?? incomplete();
  } catch (error) {
    // The connection dropped (or was closed by us) after the finish chunk: the answer is complete.
    if (finishReason !== null && !stop) return { kind: 'complete', finishReason };
    const mapped =
      error instanceof ExaiError && !attempt.signal.aborted
        ? error
        : mapNetworkError(ctx, error, attempt.signal);
    throw new AttemptError(mapped, tokens);
  } finally {
    watchdog.stop();
    ctx.signal.removeEventListener('abort', onOuterAbort);
    // Anything but a fully read body leaves the socket in an unknown state: close it.
    if (res && !res.body.complete) res.body.destroy();
  }
}

/** How long to wait for the body to end after [DONE] before closing the connection ourselves. */
const DONE_GRACE_MS = 1000;

function hasToken(chunk: ChatCompletionChunk): boolean {
  const d = chunk.choices[0]?.delta;
  return !!(d && (d.content || d.reasoning_content || d.tool_calls?.length));
}
