// The emulator's public types: options, the request log record and the Emulator handle.
import type { ProviderName } from '../types.js';
import type { FaultSpec } from './faults.js';

export interface EmulatorOptions {
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Delay between chunks; 0 (default) writes as fast as the client reads. */
  paceMs?: number;
  /** Delay after the response headers, before the first chunk. */
  firstChunkDelayMs?: number;
  /** Answer length in words (default 60); `max_tokens` cuts it shorter. */
  words?: number;
  /** Tokens per content/reasoning chunk (default 1). */
  tokensPerChunk?: number;
  /** Frame events with CRLF instead of LF. */
  crlf?: boolean;
  /** Write a `: keep-alive` comment event between chunks. */
  keepAliveComments?: boolean;
  /** Add `x_emulator_sent_at` (ms, performance.timeOrigin + performance.now()) to every chunk. */
  timestamps?: boolean;
  /** Usage in its own `choices: []` chunk after the finish chunk, as GLM and Kimi sometimes send it. */
  separateUsage?: boolean;
  /**
   * What `GET /models` lists per provider (default: the catalog's current models); `null` answers
   * 404, like a provider without a listing.
   */
  modelListing?: Partial<Record<ProviderName, readonly string[] | null>>;
  /** Request records kept in `requests` (oldest dropped first; default 10000). */
  maxRecords?: number;
  /** Every model reasons first (`reasoning_content`), unless the request disables thinking. */
  reasoning?: boolean;
  /** Answer user turns with a tool call even when the request offers no tools (`get_weather`). */
  tools?: boolean;
  /** Start each answer with `[N messages] `, the number of messages received (shows a kept conversation). */
  echoMessages?: boolean;
}

export type Outcome = 'completed' | 'client-closed' | 'fault';

/** One HTTP request the emulator received. Times are `performance.now()` milliseconds. */
export interface RequestRecord {
  seq: number;
  /** null for paths outside both providers' base URLs. */
  provider: ProviderName | null;
  method: string;
  path: string;
  /** '' until the body is parsed, or when it had none. */
  model: string;
  stream: boolean;
  /** The parsed JSON body; null when absent or unreadable. */
  body: Record<string, unknown> | null;
  /** The request ended with an assistant prefill that the answer continues. */
  continuation: boolean;
  /** The fault applied to this response (a consumed fault that did not apply is not recorded). */
  fault: FaultSpec | null;
  /** A valid `Authorization: Bearer <key>` was sent; the key itself is never stored. */
  hasAuth: boolean;
  /** Same number for requests on one reused keep-alive connection. */
  socketId: number;
  /** HTTP status sent, once headers are out. */
  status?: number;
  startedAt: number;
  endedAt?: number;
  outcome?: Outcome;
  clientClosedAt?: number;
}

export interface EmulatorEvents {
  /** A request was read and is about to be answered. */
  request: [RequestRecord];
  /** The client closed the connection before the response was complete. */
  'client-closed': [RequestRecord];
}

export interface Emulator {
  /** `http://host:port`, no trailing slash. */
  readonly url: string;
  readonly port: number;
  /**
   * The OpenAI-compatible base URL for a provider: `${url}/glm/api/paas/v4` or `${url}/kimi/v1`;
   * `coding` gives GLM's Coding Plan path, `${url}/glm/api/coding/paas/v4`.
   */
  baseURL(provider: ProviderName, endpoint?: 'coding'): string;
  /** Appends faults for successive chat-completion requests; `null` means a normal answer. */
  script(faults: ReadonlyArray<FaultSpec | null>): void;
  /** A fault for every request while the script is empty; null for none. */
  setDefaultFault(spec: FaultSpec | null): void;
  /** Clears the script, the default fault and the request log (sequence numbers restart at 1). */
  reset(): void;
  /** Live request log, oldest first (the last `maxRecords`; `seq` keeps counting). */
  readonly requests: readonly RequestRecord[];
  openSockets(): number;
  totalSockets(): number;
  /** Resolves when no response is in flight; rejects after `timeoutMs` (default 5000). */
  waitForIdle(timeoutMs?: number): Promise<void>;
  setOptions(partial: EmulatorOptions): void;
  on<E extends keyof EmulatorEvents>(event: E, listener: (...args: EmulatorEvents[E]) => void): this;
  once<E extends keyof EmulatorEvents>(event: E, listener: (...args: EmulatorEvents[E]) => void): this;
  off<E extends keyof EmulatorEvents>(event: E, listener: (...args: EmulatorEvents[E]) => void): this;
  /** Stops listening, ends every response, destroys every socket and clears every timer. */
  close(): Promise<void>;
}

export type ResolvedOptions = Required<Omit<EmulatorOptions, 'port' | 'host' | 'modelListing'>> &
  Pick<EmulatorOptions, 'modelListing'>;

export const DEFAULT_OPTIONS: ResolvedOptions = {
  paceMs: 0,
  firstChunkDelayMs: 0,
  words: 60,
  tokensPerChunk: 1,
  crlf: false,
  keepAliveComments: false,
  timestamps: false,
  separateUsage: false,
  maxRecords: 10_000,
  reasoning: false,
  tools: false,
  echoMessages: false,
};

const isInt = (v: unknown, min: number) => typeof v === 'number' && Number.isInteger(v) && v >= min;

/** Throws a TypeError naming the first bad option. */
export function checkOptions(o: EmulatorOptions): void {
  const rules: Array<[keyof EmulatorOptions, number]> = [
    ['port', 0],
    ['paceMs', 0],
    ['firstChunkDelayMs', 0],
    ['words', 1],
    ['tokensPerChunk', 1],
    ['maxRecords', 1],
  ];
  for (const [key, min] of rules) {
    if (o[key] !== undefined && !isInt(o[key], min)) {
      throw new TypeError(`emulator: option ${key} must be an integer >= ${min}`);
    }
  }
}

/** Options without port/host and undefined values, ready to merge. */
export function pickOptions(o: EmulatorOptions): Partial<ResolvedOptions> {
  const out: Partial<ResolvedOptions> = {};
  for (const key of [...Object.keys(DEFAULT_OPTIONS), 'modelListing'] as Array<keyof ResolvedOptions>) {
    if (o[key] !== undefined) Object.assign(out, { [key]: o[key] });
  }
  return out;
}
