// `chat_resume`: the next part of an answer that outlived a call budget, read from the store, so
// whichever instance runs the answer, any instance can serve its parts.
import type { CallToolResult, ServerContext } from '@modelcontextprotocol/server';
import { callProgress } from '../call-progress.js';
import { describeError, toolError } from '../errors.js';
import { answerResult } from '../result.js';
import type { Runtime } from '../runtime.js';
import type { ResumeInput } from '../schemas.js';
import { services } from '../services.js';
import { ALIVE_TTL_MS } from './job.js';
import { type AnswerFinal, type AnswerState, answerKeys, isResumeId } from './keys.js';

// How long an explicit cancel waits for the answer's end to be recorded.
const CANCEL_WAIT_MS = 3000;
const ALIVE_CHECK_MS = 1000;

const unknownId = (id: string, ttlS: number) =>
  `unknown or expired resume_id "${id}": an answer can be resumed until ${ttlS} s after it ended, ` +
  'and is dropped sooner when nobody resumes it; ask again with chat';

export async function resumeTool(
  args: ResumeInput,
  ctx: ServerContext,
  rt: Runtime,
): Promise<CallToolResult> {
  const call = rt.track(ctx.mcpReq.signal);
  try {
    return await resume(args, ctx, rt, call.signal);
  } catch (error) {
    if (!call.signal.aborted) rt.logger.warn('chat_resume failed', { error: describeError(error) });
    return toolError(error);
  } finally {
    call.release();
  }
}

async function resume(args: ResumeInput, ctx: ServerContext, rt: Runtime, signal: AbortSignal) {
  const id = args.resume_id;
  if (!isResumeId(id)) return toolError(unknownId(id, rt.config.storeTtlS));
  const svc = await services(rt);
  const { store, ttlMs } = svc;
  const keys = answerKeys(id);
  const raw = await store.get(keys.state).catch((error: unknown) => {
    throw new Error(`cannot resume: the ${store.name} store is unavailable: ${describeError(error)}`);
  });
  if (raw === undefined) return toolError(unknownId(id, rt.config.storeTtlS));
  const state = JSON.parse(raw) as AnswerState;
  if (state.completed) {
    return toolError(`resume_id "${id}" is complete: its last part was returned already`);
  }
  let budget = args.wait_ms ?? rt.config.callBudgetMs;
  if (args.cancel) {
    svc.jobs.get(id)?.abort('the answer was cancelled by chat_resume');
    await store.set(keys.cancel, '1', ttlMs);
    budget = CANCEL_WAIT_MS;
  }
  await store.set(keys.touch, String(Date.now()), ttlMs);

  const progress = callProgress(ctx, rt, signal, state.model, { seq: state.seq, progress: state.progress });
  const pollMs = Math.min(100, Math.max(20, rt.config.progressIntervalMs));
  const deadline = budget > 0 ? Date.now() + budget : Number.POSITIVE_INFINITY;
  let content = '';
  let reasoning = '';
  let bytes = 0;
  let rbytes = 0;
  let final: AnswerFinal | undefined;
  let aliveCheckedAt = Date.now();
  try {
    for (;;) {
      // The final record first: once it exists, the text read after it is complete.
      const finalRaw = await store.get(keys.final);
      const r = await store.readFrom(keys.reasoning, state.reasoningCursor + rbytes);
      const c = await store.readFrom(keys.content, state.cursor + bytes);
      if (c === undefined) return toolError(unknownId(id, rt.config.storeTtlS));
      if (r) {
        reasoning += r;
        rbytes += Buffer.byteLength(r, 'utf8');
        if (state.showReasoning) progress?.relay.push('reasoning', r);
        else progress?.relay.noteThinking();
      }
      if (c) {
        content += c;
        bytes += Buffer.byteLength(c, 'utf8');
        progress?.relay.push('content', c);
      }
      if (finalRaw !== undefined) {
        final = JSON.parse(finalRaw) as AnswerFinal;
        break;
      }
      const now = Date.now();
      if (now - aliveCheckedAt >= ALIVE_CHECK_MS) {
        aliveCheckedAt = now;
        if ((await store.get(keys.alive)) === undefined) {
          final = {
            finish_reason: null,
            error: {
              code: 'lost',
              message: `the server that ran this answer stopped before it ended (no sign of it for ${ALIVE_TTL_MS / 1000} s)`,
            },
            notSaved: 'the answer was lost before it ended',
          };
          break;
        }
      }
      if (now >= deadline) break;
      await pause(Math.min(pollMs, deadline - now), signal);
      if (signal.aborted) {
        // Nothing was returned: the next chat_resume starts where this one did.
        progress?.relay.stop();
        return toolError('chat_resume was cancelled; the answer goes on — call chat_resume again to get it');
      }
    }
    if ((await progress?.settle(content)) === false || signal.aborted) {
      // Nobody received this part: the next chat_resume starts where this one did.
      return toolError('chat_resume was cancelled; the answer goes on — call chat_resume again to get it');
    }
  } finally {
    progress?.relay.stop();
  }

  const next: AnswerState = {
    ...state,
    cursor: state.cursor + bytes,
    reasoningCursor: state.reasoningCursor + rbytes,
    seq: progress?.relay.sent ?? state.seq,
    progress: progress?.relay.progress ?? state.progress,
    part: state.part + 1,
    ...(final ? { completed: true } : {}),
  };
  await store.set(keys.state, JSON.stringify(next), ttlMs);
  await store.set(keys.touch, String(Date.now()), ttlMs);
  rt.logger.info('chat_resume part', { resumeId: id, part: next.part, last: final !== undefined });
  const shownReasoning = state.showReasoning && reasoning ? { reasoning } : {};
  if (!final) {
    return answerResult({ content, ...shownReasoning, finish_reason: null, resume_id: id, part: next.part });
  }
  // The text of a finished answer is not needed again; the state says it is complete.
  await store.delete([keys.content, keys.reasoning, keys.cancel, keys.alive]);
  if (final.failed !== undefined && content === '') return toolError(final.failed);
  const error =
    final.error ?? (final.failed !== undefined ? { code: 'error', message: final.failed } : undefined);
  return answerResult(
    {
      content,
      ...shownReasoning,
      finish_reason: final.finish_reason,
      ...(final.usage ? { usage: final.usage } : {}),
      ...(final.metadata ? { metadata: final.metadata } : {}),
      ...(error ? { error } : {}),
      ...(final.notSaved ? {} : { continuation_id: state.continuationId }),
      part: next.part,
    },
    final.notSaved,
  );
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
