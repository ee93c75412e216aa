// Scriptable faults: what can go wrong with one response, and the FIFO script that assigns
// faults to successive chat-completion requests.

/** Per-request overrides of the emulator options; any fault may carry them. */
export interface FaultOverrides {
  words?: number;
  paceMs?: number;
  tokensPerChunk?: number;
}

interface FaultBase extends FaultOverrides {
  /** Apply the fault only to `stream: true` requests; other requests are answered normally. */
  onlyStream?: boolean;
  /**
   * The fault sits at one spot of the answer (a token the model cannot get past): a continuation
   * request meets it at once, before any new text. Without it, `afterChunks` counts per response.
   */
  sameSpot?: boolean;
  /** GLM's quirk: a first chunk with `content: "\n"` before the answer (streaming only). */
  leadingNewline?: boolean;
  /** Leave the answer's text out (a model that answers with a tool call only). */
  noText?: boolean;
}

/** A provider's own error code: GLM digits ("1302"), Kimi an error type ("rate_limit_reached_error"). */
export interface ProviderCode {
  code?: string;
  /** The provider's message; a typical one for `code` by default. */
  message?: string;
}

/**
 * One scripted fault. `afterChunks` counts `data:` chunk events (Kimi's role-only first chunk
 * included) and is capped so the fault always strikes before the finish chunk.
 */
export type FaultSpec = FaultBase &
  (
    | { type: 'none' }
    | { type: 'drop'; afterChunks: number }
    | ({ type: 'status'; status: number; retryAfter?: string; body?: Record<string, unknown> } & ProviderCode)
    | { type: 'stall'; ms?: number; beforeFirstMs?: number; afterChunks?: number }
    | { type: 'malformed'; afterChunks: number }
    | ({
        type: 'error-frame';
        afterChunks: number;
        /** The frame's `request_id` (GLM); by default derived from the response's x-request-id. */
        requestId?: string;
      } & ProviderCode)
    | { type: 'no-done' }
    | { type: 'truncate'; afterChunks: number }
    /** json: a gateway ignoring `stream`; status: 503; unsupported: a 400 saying streaming is not supported. */
    | { type: 'refuse-stream'; mode: 'json' | 'status' | 'unsupported' }
    | { type: 'hang' }
    /** The answer ends after `afterChunks` with this finish reason (GLM `network_error`, `sensitive`). */
    | { type: 'finish'; reason: string; afterChunks: number }
    /** The connection is cut after `afterToolDeltas` tool-call chunks (default 1): a half tool call. */
    | { type: 'break-tool-call'; afterToolDeltas?: number }
    /** The tool-call chunks are left out; the stream still ends with `finish_reason: "tool_calls"`. */
    | { type: 'tool-calls-no-call' }
    /** Every argument fragment of a tool call carries a new id (a relay renumbering calls). */
    | { type: 'tool-id-change' }
  );

export type FaultType = FaultSpec['type'];

const TYPES: ReadonlySet<string> = new Set<FaultType>([
  'none',
  'drop',
  'status',
  'stall',
  'malformed',
  'error-frame',
  'no-done',
  'truncate',
  'refuse-stream',
  'hang',
  'finish',
  'break-tool-call',
  'tool-calls-no-call',
  'tool-id-change',
]);

const isCount = (v: unknown) => typeof v === 'number' && Number.isInteger(v) && v >= 0;
const isOptionalCount = (v: unknown) => v === undefined || isCount(v);

/** Throws a TypeError for a spec the emulator could not honour, so a bad script fails at once. */
export function checkFault(spec: FaultSpec): void {
  const s = spec as FaultSpec & Record<string, unknown>;
  if (!TYPES.has(s.type)) throw new TypeError(`emulator: unknown fault type ${JSON.stringify(s.type)}`);
  const counts = ['afterChunks', 'ms', 'beforeFirstMs', 'words', 'paceMs', 'afterToolDeltas'] as const;
  for (const key of counts) {
    if (!isOptionalCount(s[key]))
      throw new TypeError(`emulator: fault ${s.type}.${key} must be an integer >= 0`);
  }
  if (s.tokensPerChunk !== undefined && !(isCount(s.tokensPerChunk) && s.tokensPerChunk >= 1)) {
    throw new TypeError('emulator: fault tokensPerChunk must be an integer >= 1');
  }
  const needsAfter =
    s.type === 'drop' ||
    s.type === 'malformed' ||
    s.type === 'error-frame' ||
    s.type === 'truncate' ||
    s.type === 'finish';
  if (s.type === 'finish' && !(typeof s.reason === 'string' && s.reason !== '')) {
    throw new TypeError('emulator: finish fault needs a reason');
  }
  if (needsAfter && !isCount(s.afterChunks))
    throw new TypeError(`emulator: fault ${s.type} needs afterChunks`);
  if (s.type === 'status' && !(Number.isInteger(s.status) && s.status >= 400 && s.status <= 599)) {
    throw new TypeError('emulator: status fault needs an HTTP status 400-599');
  }
  if (s.type === 'refuse-stream' && !['json', 'status', 'unsupported'].includes(s.mode)) {
    throw new TypeError("emulator: refuse-stream mode must be 'json', 'status' or 'unsupported'");
  }
  for (const key of ['onlyStream', 'sameSpot', 'leadingNewline', 'noText'] as const) {
    if (s[key] !== undefined && typeof s[key] !== 'boolean')
      throw new TypeError(`emulator: fault ${s.type}.${key} must be a boolean`);
  }
  for (const key of ['code', 'message', 'requestId'] as const) {
    if (s[key] !== undefined && typeof s[key] !== 'string')
      throw new TypeError(`emulator: fault ${s.type}.${key} must be a string`);
  }
}

/** Whether `spec` changes how a request with this `stream` flag is answered. */
export function faultApplies(spec: FaultSpec, stream: boolean): boolean {
  if (spec.type === 'none') return stream && spec.leadingNewline === true;
  if (spec.type === 'refuse-stream' || spec.onlyStream) return stream;
  return true;
}

/** The FIFO of scripted faults plus a default for when it is empty. */
export class FaultScript {
  private queue: Array<FaultSpec | null> = [];
  private fallback: FaultSpec | null = null;

  push(faults: ReadonlyArray<FaultSpec | null>): void {
    for (const f of faults) if (f) checkFault(f);
    this.queue.push(...faults);
  }

  setDefault(spec: FaultSpec | null): void {
    if (spec) checkFault(spec);
    this.fallback = spec;
  }

  clear(): void {
    this.queue = [];
    this.fallback = null;
  }

  /** Scripted entries not yet consumed. */
  get pending(): number {
    return this.queue.length;
  }

  /** The spec for the next chat-completion request (consumes one scripted entry). */
  next(): FaultSpec | null {
    if (this.queue.length > 0) return this.queue.shift() ?? null;
    return this.fallback;
  }
}
