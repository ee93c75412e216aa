// One HTTP request to a provider's chat completions: what every attempt shares (headers, errors,
// the run it reports to), and the non-streaming attempt: the whole completion in one JSON body.
import type { ProviderConfig, Timeouts } from '../config/index.js';
import { abortReasonOf, ConnectionError, ExaiError, StreamError } from '../errors.js';
import { registerSecret } from '../log.js';
import { type Completion, errorFromFrame, isErrorFrame, type Provider } from '../providers/provider.js';
import type { HttpRequest, HttpResponse, RequestHandle, Transport } from '../providers/transport.js';
import type { ChatCompletionChunk } from '../types.js';
import { readText } from './body.js';

/** What an attempt needs of its run: implemented by the run itself (no closures per attempt). */
export interface AttemptContext {
  readonly provider: Provider;
  readonly config: ProviderConfig;
  readonly transport: Transport;
  readonly timeouts: Timeouts;
  readonly userAgent: string;
  /** When the run's total deadline passes (a `performance.now()` time); a streaming attempt watches it. */
  readonly deadlineAt: number;
  /** The total deadline passed (the attempt that watched it says so): the run is cancelled. */
  deadlinePassed(): void;
  /** The run was cancelled (by the caller or its total deadline); `abortedWith` says which. */
  readonly aborted: boolean;
  readonly abortedWith: unknown;
  /** Aborts when the run is cancelled; made on first use (most runs never need one). */
  readonly signal: AbortSignal;
  /** Rewrites a decoded chunk before it is counted (a continuation's echo filter). */
  transform(chunk: ChatCompletionChunk): void;
  /** Receives every decoded chunk; returns false to stop reading (output limit reached). */
  deliver(chunk: ChatCompletionChunk): boolean;
  /** Resolves when the consumer has room again (backpressure). */
  whenDrained(): Promise<void>;
  needsDrain(): boolean;
  /** Called when an attempt is answered with 200 (the run acts on the first call only). */
  onOpen(): void;
  /** A request is over: answered with `done`, or failed with `error` (an AttemptError when streaming). */
  requestOver(done: StreamOutcome | Completion | undefined, error?: unknown): void;
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

/**
 * Each provider config's Authorization value and request URL: one string each for all its requests.
 * The same URL string every time also lets the transport match its parsed URL by identity, where a
 * string built per request is compared character by character.
 */
const perConfig = new WeakMap<ProviderConfig, { key: string; baseURL: string; auth: string; url: string }>();

function configStrings(config: ProviderConfig): { auth: string; url: string } {
  const key = config.apiKey ?? '';
  let strings = perConfig.get(config);
  if (strings?.key !== key || strings.baseURL !== config.baseURL) {
    // A key set on the config after the client was made (a rotation) is redacted like the first.
    registerSecret(config.apiKey);
    strings = {
      key,
      baseURL: config.baseURL,
      auth: `Bearer ${key}`,
      url: `${config.baseURL}/chat/completions`,
    };
    perConfig.set(config, strings);
  }
  return strings;
}

function headers(ctx: AttemptContext, auth: string, stream: boolean): Record<string, string> {
  return {
    authorization: auth,
    'content-type': 'application/json',
    accept: stream ? 'text/event-stream' : 'application/json',
    'user-agent': ctx.userAgent,
  };
}

type AttemptHandle = RequestHandle & { readonly closedWith: unknown; readonly signal: AbortSignal };

/**
 * A streaming attempt's request: the transport closes it through `handle`; `signal`, the attempt's
 * own (made when first read), is there for a caller's transport that wants one. `signal` is an own,
 * enumerable accessor (a spread copies it) from one descriptor every request shares. As an object
 * literal with a getter, the getter's closure, kept from old space, held the attempt and with it the
 * whole run through every minor GC until the next full one (see providers/node-response.ts).
 */
class AttemptRequest implements HttpRequest {
  declare readonly signal: AbortSignal;
  /** The attempt, whatever a caller's transport does to `handle`. */
  readonly #attempt: AttemptHandle;

  constructor(
    public url: string,
    public headers: Record<string, string>,
    public body: string,
    public handle: AttemptHandle,
  ) {
    this.#attempt = handle;
    Object.defineProperty(this, 'signal', SIGNAL);
  }

  /** The getter: the attempt's signal; through `handle` for a Proxy of the request or a copy of it. */
  static signalOf(self: HttpRequest): AbortSignal {
    return #attempt in self ? self.#attempt.signal : (self.handle as AttemptHandle).signal;
  }
}

const SIGNAL: PropertyDescriptor = {
  get(this: HttpRequest) {
    return AttemptRequest.signalOf(this);
  },
  enumerable: true,
  configurable: true,
};

/** Sends the request; non-2xx answers become the provider's APIError. */
export async function open(
  ctx: AttemptContext,
  body: Record<string, unknown>,
  stream: boolean,
  attempt?: AttemptHandle,
): Promise<HttpResponse> {
  const { auth, url } = configStrings(ctx.config);
  let res: HttpResponse;
  try {
    const headerSet = headers(ctx, auth, stream);
    const text = JSON.stringify(body);
    res = await ctx.transport.request(
      attempt
        ? new AttemptRequest(url, headerSet, text, attempt)
        : { url, headers: headerSet, body: text, signal: ctx.signal },
    );
  } catch (error) {
    throw mapNetworkError(ctx, error, closedReason(ctx, attempt));
  }
  if (res.status < 200 || res.status >= 300) {
    const text = await readText(res.body, ERROR_BODY_LIMIT).catch(() => '');
    throw ctx.provider.apiError(res.status, text, res.headers, ctx.config.baseURL);
  }
  return res;
}

/** Why the request was closed by us (the caller, a deadline), or undefined when it was not. */
export function closedReason(ctx: AttemptContext, attempt?: { readonly closedWith: unknown }): unknown {
  if (ctx.aborted) return abortReasonOf(ctx.abortedWith);
  return attempt?.closedWith;
}

export function mapNetworkError(ctx: AttemptContext, error: unknown, closed: unknown): unknown {
  if (closed !== undefined) return closed;
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
  const res = await open(ctx, body, false);
  ctx.onOpen();
  try {
    const text = await readText(res.body, Number.POSITIVE_INFINITY);
    return parseCompletion(ctx, text, res.headers);
  } catch (error) {
    throw mapNetworkError(ctx, error, closedReason(ctx));
  }
}

export function parseCompletion(
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
