// Writes one chat-completion response, streamed or whole, with pacing, backpressure and the
// scripted fault. Stops at once (timers cleared) when its signal aborts.
import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import type { AnswerPlan } from './answer.js';
import { codeError, errorFrame, gatewayHtml, statusError, streamUnsupported } from './errors.js';
import type { FaultSpec } from './faults.js';
import { completionBody, countEvents, type ResponseMeta, streamEvents } from './wire.js';

export interface PaceOptions {
  paceMs: number;
  firstChunkDelayMs: number;
  tokensPerChunk: number;
  crlf: boolean;
  keepAliveComments: boolean;
  timestamps: boolean;
}

export interface ResponseJob {
  res: ServerResponse;
  meta: ResponseMeta;
  plan: AnswerPlan;
  stream: boolean;
  /** The fault to apply, already filtered by `faultApplies`. */
  fault: FaultSpec | null;
  options: PaceOptions;
  /** Aborts when the client goes away or the emulator closes. */
  signal: AbortSignal;
  headers: Record<string, string>;
  /** Called just before the emulator cuts the connection itself, so that is not taken for a client abort. */
  onFaultClose(): void;
}

export type Outcome = 'completed' | 'fault' | 'aborted';

const MALFORMED = 'data: {"id":"broken", "choices":[{"delta":{"content":"x"';

/** Waits `ms`; false when aborted first. The timer is cleared on abort. */
async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false;
  if (ms <= 0) return true;
  try {
    await delay(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

function untilAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(text)),
    ...headers,
  });
  res.end(text);
}

/** One `res.write` per event so a paced reader sees events one by one; waits on backpressure. */
class EventWriter {
  /** Settles once the last write reached the socket. */
  flushed: Promise<void> = Promise.resolve();
  readonly nl: string;

  constructor(
    private readonly res: ServerResponse,
    private readonly signal: AbortSignal,
    crlf: boolean,
  ) {
    this.nl = crlf ? '\r\n' : '\n';
  }

  async write(text: string): Promise<boolean> {
    if (this.signal.aborted || this.res.destroyed) return false;
    let ok = true;
    this.flushed = new Promise((resolve) => {
      ok = this.res.write(text, () => resolve());
    });
    if (ok) return true;
    try {
      await once(this.res, 'drain', { signal: this.signal });
      return true;
    } catch {
      return false;
    }
  }

  event(data: string): Promise<boolean> {
    return this.write(`data: ${data}${this.nl}${this.nl}`);
  }
}

/** The error frame a fault asks for; its request id differs from the header's, as a relay's would. */
function frameOf(job: ResponseJob, f: FaultSpec & { type: 'error-frame' }): Record<string, unknown> {
  const id = f.requestId ?? `frame-${job.headers['x-request-id'] ?? job.meta.id}`;
  return errorFrame(job.meta.provider, f.code, f.message, id);
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The first choice's delta of a chunk the wire layer built. */
function deltaOf(chunk: Json): Json | undefined {
  const choices = chunk.choices;
  const first = Array.isArray(choices) ? choices[0] : undefined;
  return isObject(first) && isObject(first.delta) ? first.delta : undefined;
}

/** GLM's leading `content: "\n"` chunk, in the provider's own chunk shape. */
function newlineChunk(meta: ResponseJob['meta']): Json {
  const delta = { role: 'assistant', content: '\n' };
  const choice = meta.provider === 'kimi' ? { index: 0, delta, finish_reason: null } : { index: 0, delta };
  return {
    id: meta.id,
    object: 'chat.completion.chunk',
    created: meta.created,
    model: meta.model,
    choices: [choice],
  };
}

/** A finish chunk with `reason`, in the provider's own shape. */
function finishChunk(meta: ResponseJob['meta'], reason: string): Json {
  const choice = { index: 0, finish_reason: reason, delta: { role: 'assistant', content: '' } };
  return {
    id: meta.id,
    object: 'chat.completion.chunk',
    created: meta.created,
    model: meta.model,
    choices: [choice],
  };
}

function statusResponse(job: ResponseJob, status: number, retryAfter?: string, body?: unknown): Outcome {
  const headers = { ...job.headers, ...(retryAfter !== undefined ? { 'retry-after': retryAfter } : {}) };
  if (body === undefined && (status === 502 || status === 504)) {
    job.res.writeHead(status, { 'content-type': 'text/html', ...headers });
    job.res.end(gatewayHtml(status));
  } else {
    sendJson(job.res, status, body ?? statusError(job.meta.provider, status), headers);
  }
  return 'fault';
}

function cut(job: ResponseJob): Outcome {
  job.onFaultClose();
  job.res.destroy();
  return 'fault';
}

async function whole(job: ResponseJob): Promise<Outcome> {
  const { res, options: o, fault: f, signal } = job;
  // A whole answer arrives when generation would have finished, like a real non-streaming call.
  let wait =
    o.firstChunkDelayMs +
    o.paceMs * Math.max(0, countEvents(job.meta.provider, job.plan, o.tokensPerChunk) - 1);
  if (f?.type === 'stall') wait += (f.beforeFirstMs ?? 0) + (f.ms ?? 0);
  if (!(await pause(wait, signal))) return 'aborted';
  if (f?.type === 'drop' || f?.type === 'break-tool-call') return cut(job);
  const body = completionBody(job.meta, job.plan);
  const message = (body.choices as Json[])[0]?.message;
  if (isObject(message)) {
    if (f?.type === 'tool-calls-no-call') delete message.tool_calls;
    if (f?.noText) message.content = '';
  }
  if (f?.type === 'malformed' || f?.type === 'truncate') {
    const text = JSON.stringify(body);
    res.writeHead(200, { 'content-type': 'application/json', ...job.headers });
    res.end(text.slice(0, Math.floor(text.length / 2)));
    return 'fault';
  }
  // GLM has been seen answering HTTP 200 with an error body; give Kimi the same for symmetry.
  sendJson(res, 200, f?.type === 'error-frame' ? frameOf(job, f) : body, job.headers);
  return f ? 'fault' : 'completed';
}

async function streamed(job: ResponseJob): Promise<Outcome> {
  const { res, options: o, fault: f, signal, meta } = job;
  const w = new EventWriter(res, signal, o.crlf);
  const contentType = meta.provider === 'glm' ? 'text/event-stream;charset=UTF-8' : 'text/event-stream';
  res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-cache', ...job.headers });
  res.flushHeaders();

  let before = o.firstChunkDelayMs;
  let strikeAt: number | undefined;
  if (f?.type === 'stall') {
    before += f.beforeFirstMs ?? 0;
    if (f.afterChunks === undefined) before += f.ms ?? 0;
    else strikeAt = f.afterChunks;
  } else if (f && 'afterChunks' in f) {
    strikeAt = f.afterChunks;
  }
  // A fault at a spot of the answer is met again at once by a request continuing past it.
  if (f?.sameSpot && job.plan.continuation && strikeAt !== undefined) strikeAt = 0;
  if (!(await pause(before, signal))) return 'aborted';

  let sent = 0;
  let struck = false;
  let toolChunks = 0;
  if (f?.leadingNewline) {
    if (!(await w.event(JSON.stringify(newlineChunk(meta))))) return 'aborted';
    sent++;
  }
  for (const { chunk, final } of streamEvents(meta, job.plan, o.tokensPerChunk)) {
    const delta = deltaOf(chunk);
    const tools = !final && Array.isArray(delta?.tool_calls) ? (delta.tool_calls as Json[]) : undefined;
    if (f?.noText && !final && typeof delta?.content === 'string' && delta.content !== '') continue;
    if (tools && f?.type === 'tool-calls-no-call') continue;
    if (f?.type === 'break-tool-call' && (tools || final) && toolChunks >= (f.afterToolDeltas ?? 1)) {
      await Promise.race([w.flushed, untilAborted(signal)]);
      return cut(job);
    }
    if (tools) {
      toolChunks++;
      if (f?.type === 'tool-id-change' && toolChunks > 1) {
        for (const t of tools) t.id = `call_renamed_${toolChunks}`;
      }
    }
    // Faults strike before the finish chunk at the latest, so they always leave the answer incomplete.
    if (f && strikeAt !== undefined && !struck && (sent >= strikeAt || final)) {
      struck = true;
      switch (f.type) {
        case 'stall':
          if (!(await pause(f.ms ?? 0, signal))) return 'aborted';
          break;
        case 'drop':
          await Promise.race([w.flushed, untilAborted(signal)]);
          return cut(job);
        case 'malformed':
          await w.write(`${MALFORMED}${w.nl}${w.nl}`);
          res.end();
          return 'fault';
        case 'error-frame':
          // GLM names the event (`event: error`); Kimi's frames, undocumented, are plain data.
          await w.write(
            `${meta.provider === 'glm' ? `event: error${w.nl}` : ''}data: ${JSON.stringify(frameOf(job, f))}${w.nl}${w.nl}`,
          );
          res.end();
          return 'fault';
        case 'truncate':
          res.end();
          return 'fault';
        case 'finish-reason':
          await w.event(JSON.stringify(finishChunk(meta, f.reason)));
          await w.event('[DONE]');
          res.end();
          return 'fault';
      }
    }
    if (sent > 0) {
      if (o.keepAliveComments && !(await w.write(`: keep-alive${w.nl}${w.nl}`))) return 'aborted';
      if (!(await pause(o.paceMs, signal))) return 'aborted';
    }
    if (o.timestamps) chunk.x_emulator_sent_at = performance.timeOrigin + performance.now();
    if (!(await w.event(JSON.stringify(chunk)))) return 'aborted';
    sent++;
  }
  if (f?.type !== 'no-done' && !(await w.event('[DONE]'))) return 'aborted';
  res.end();
  return f ? 'fault' : 'completed';
}

/** Answers a validated chat-completion request, applying its fault. */
export async function respond(job: ResponseJob): Promise<Outcome> {
  const f = job.fault;
  if (f?.type === 'status') {
    const body = f.body ?? (f.code ? codeError(job.meta.provider, f.code, f.message) : undefined);
    return statusResponse(job, f.status, f.retryAfter, body);
  }
  if (f?.type === 'hang') {
    await untilAborted(job.signal);
    return 'fault';
  }
  if (f?.type === 'refuse-stream' && job.stream) {
    // 'json': a gateway that ignores `stream` and answers with a whole completion.
    if (f.mode === 'unsupported') {
      return statusResponse(job, 400, undefined, streamUnsupported(job.meta.provider, job.meta.model));
    }
    return f.mode === 'json' ? whole(job) : statusResponse(job, 503);
  }
  return job.stream ? streamed(job) : whole(job);
}
