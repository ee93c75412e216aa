// A streamed answer: SSE events one write each, paced, with backpressure, and the scripted fault
// struck at its spot.
import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { isObject, type Json } from '../json.js';
import { cut, frameOf, type Outcome, pause, type ResponseJob, untilAborted } from './response-job.js';
import { glmFinishChunk, kimiFinishChunk, streamEvents } from './wire.js';

const MALFORMED = 'data: {"id":"broken", "choices":[{"delta":{"content":"x"';

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

/** Writes the job's answer as SSE events, paced, and strikes its fault at its spot. */
export async function streamed(job: ResponseJob): Promise<Outcome> {
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
  for (const { chunk, final } of streamEvents(meta, job.plan, o.tokensPerChunk, o)) {
    const delta = deltaOf(chunk);
    // GLM's one-frame tool call is also the finish chunk (`final`).
    const tools = Array.isArray(delta?.tool_calls) ? (delta.tool_calls as Json[]) : undefined;
    if (f?.noText && !final && typeof delta?.content === 'string' && delta.content !== '') continue;
    if (tools && f?.type === 'tool-calls-no-call') {
      if (!final) continue;
      // The one-frame call carries the finish: keep the finish, drop the call.
      delete (delta as Json).tool_calls;
    }
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
        case 'finish': {
          const end =
            meta.provider === 'glm'
              ? glmFinishChunk(meta, job.plan, f.reason, true)
              : kimiFinishChunk(meta, job.plan, f.reason);
          if (!(await w.event(JSON.stringify(end))) || !(await w.event('[DONE]'))) return 'aborted';
          res.end();
          return 'fault';
        }
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
