// What one response is written from (the job), and the helpers both kinds of answer share:
// pausing on or waiting for the job's signal, cutting the connection, error frames, JSON bodies.
import type { ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import type { AnswerPlan } from './answer.js';
import { errorFrame } from './errors.js';
import type { FaultSpec } from './faults.js';
import type { ResponseMeta } from './wire.js';

export interface PaceOptions {
  paceMs: number;
  firstChunkDelayMs: number;
  tokensPerChunk: number;
  crlf: boolean;
  keepAliveComments: boolean;
  timestamps: boolean;
  separateUsage: boolean;
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

/** Waits `ms`; false when aborted first. The timer is cleared on abort. */
export async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false;
  if (ms <= 0) return true;
  try {
    await delay(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

export function untilAborted(signal: AbortSignal): Promise<void> {
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

/** The error frame a fault asks for; its request id differs from the header's, as a relay's would. */
export function frameOf(job: ResponseJob, f: FaultSpec & { type: 'error-frame' }): Record<string, unknown> {
  const id = f.requestId ?? `frame-${job.headers['x-request-id'] ?? job.meta.id}`;
  return errorFrame(job.meta.provider, f.code, f.message, id);
}

/** The emulator cuts the connection itself (a fault), so the server does not take it for a client abort. */
export function cut(job: ResponseJob): Outcome {
  job.onFaultClose();
  job.res.destroy();
  return 'fault';
}
