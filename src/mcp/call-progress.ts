// One call's progress notifications: the relay wired to the request's `notify`, and the end of a
// call, which makes sure the client has taken in the last notification before the result goes.
import type { ServerContext } from '@modelcontextprotocol/server';
import { whenWritable, writabilityOf } from './backpressure.js';
import { describeError } from './errors.js';
import { MAX_PENDING_PROGRESS_CHARS } from './limits.js';
import { ProgressRelay } from './progress.js';
import type { Runtime } from './runtime.js';

// A client that does not answer a ping this fast is not waited for any longer.
const PING_WAIT_MS = 500;

export interface CallProgress {
  relay: ProgressRelay;
  /**
   * Flushes what is pending, then waits until the client has dispatched it: SDK v1 clients
   * dispatch a notification a microtask late but a response at once, and forget the progress
   * token with the response, so a last notification read together with the result is lost. A
   * ping sent after it is answered only once the client has handled everything before it, so
   * the result, sent after the pong, is read apart from the notifications (stdio, in-memory).
   * `content` is the text this call returns: a relay that stopped holding deltas for a client that
   * was not reading takes the rest from it. False when the call's connection closed meanwhile:
   * nobody will read the result.
   */
  settle(content?: string): Promise<boolean>;
}

/** undefined when the request carries no progress token (then nothing is sent). */
export function callProgress(
  ctx: ServerContext,
  rt: Runtime,
  signal: AbortSignal,
  model: string,
  start?: { seq: number; progress: number },
): CallProgress | undefined {
  const token = ctx.mcpReq._meta?.progressToken;
  if (token === undefined) return undefined;
  const sending = new Set<Promise<void>>();
  const firstSeq = start?.seq ?? 0;
  // The connection this call answers on (named by the HTTP transport): progress waits while it is full.
  const writability = writabilityOf(ctx.http?.req);
  const relay = new ProgressRelay({
    intervalMs: rt.config.progressIntervalMs,
    heartbeatMs: rt.heartbeatMs,
    model,
    ...(start ? { start } : {}),
    ...(writability
      ? { canSend: () => writability.canWrite(), maxPendingChars: MAX_PENDING_PROGRESS_CHARS }
      : {}),
    send: (u) => {
      if (signal.aborted) return;
      const meta = { 'exai/delta': u.delta, 'exai/channel': u.channel, 'exai/seq': u.seq };
      const params = {
        progressToken: token,
        progress: u.progress,
        message: u.message,
        _meta: u.heartbeat ? { ...meta, 'exai/heartbeat': true } : meta,
      };
      rt.metrics.progressSent();
      const sent = ctx.mcpReq.notify({ method: 'notifications/progress', params }).catch((error) => {
        rt.logger.debug('progress notification not sent', { error: describeError(error) });
      });
      sending.add(sent);
      void sent.finally(() => sending.delete(sent));
    },
  });
  return {
    relay,
    async settle(content) {
      // A client that is not reading gets its last delta and the result when it reads again (or is
      // cut by the transport, which cancels the call): nothing large is queued for it meanwhile.
      if (writability) {
        await whenWritable(writability, signal, rt.config.progressIntervalMs);
        // Gone: the rest of the answer would be serialised for nobody.
        if (writability.closed()) {
          relay.stop();
          return false;
        }
      }
      relay.close(content);
      await Promise.all(sending);
      if (relay.sent === firstSeq || signal.aborted) return true;
      // Over HTTP every notification is an SSE event of its own, which the clients dispatch in
      // order, and a stateless exchange cannot carry a server's ping: one timer turn is enough.
      if (ctx.http) {
        await new Promise((resolve) => setTimeout(resolve, 1));
        return true;
      }
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        ctx.mcpReq.send({ method: 'ping' }, { timeout: PING_WAIT_MS }).catch(() => undefined),
        new Promise((resolve) => {
          timer = setTimeout(resolve, PING_WAIT_MS);
        }),
      ]);
      clearTimeout(timer);
      return true;
    },
  };
}
