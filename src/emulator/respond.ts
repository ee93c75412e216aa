// Answers one chat-completion request with its scripted fault: an HTTP status, a whole answer, or a
// streamed one (stream-response.ts). Stops at once (timers cleared) when its signal aborts.

import { isObject, type Json } from '../json.js';
import { codeError, gatewayHtml, statusError, streamUnsupported } from './errors.js';
import {
  cut,
  frameOf,
  type Outcome,
  pause,
  type ResponseJob,
  sendJson,
  untilAborted,
} from './response-job.js';
import { streamed } from './stream-response.js';
import { completionBody, countEvents } from './wire.js';

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

async function whole(job: ResponseJob): Promise<Outcome> {
  const { res, options: o, fault: f, signal } = job;
  // A whole answer arrives when generation would have finished, like a real non-streaming call.
  let wait =
    o.firstChunkDelayMs +
    o.paceMs * Math.max(0, countEvents(job.meta.provider, job.plan, o.tokensPerChunk, o) - 1);
  if (f?.type === 'stall') wait += (f.beforeFirstMs ?? 0) + (f.ms ?? 0);
  if (!(await pause(wait, signal))) return 'aborted';
  if (f?.type === 'drop' || f?.type === 'break-tool-call') return cut(job);
  const body = completionBody(job.meta, job.plan);
  const choice = (body.choices as Json[])[0];
  const message = choice?.message;
  if (isObject(message)) {
    if (f?.type === 'tool-calls-no-call') delete message.tool_calls;
    if (f?.noText) message.content = '';
    if (f?.type === 'finish' && choice) {
      message.content = job.plan.contentTokens.slice(0, f.afterChunks).join('');
      choice.finish_reason = f.reason;
    }
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
