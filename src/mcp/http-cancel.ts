// Cancellation for 2025-era HTTP clients. The SDK serves them statelessly: every POST gets a fresh
// server instance, so a `notifications/cancelled` POST never reaches the instance running the call.
// We route it here instead: each legacy connection gets an `Mcp-Session-Id` at `initialize`, calls
// in flight are keyed by (session, request id), and a cancellation closes that call's SSE response,
// which the SDK treats as cancellation (the upstream request is aborted). A client can cancel only
// calls of its own session; sessionless calls are cancelled by closing their stream.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

type JsonRpc = { method?: unknown; id?: unknown; params?: { requestId?: unknown } };

const keyOf = (session: string, id: unknown) => `${session}\n${JSON.stringify(id)}`;

function sessionOf(req: IncomingMessage): string {
  const header = req.headers['mcp-session-id'];
  return typeof header === 'string' ? header : '';
}

export class LegacyCancellation {
  private readonly inflight = new Map<string, Set<ServerResponse>>();

  /**
   * Looks at one POST body before the SDK serves it: tags an `initialize` answer with a session id,
   * remembers requests, and turns `notifications/cancelled` into closing the cancelled call's stream.
   * Returns how many calls it cancelled.
   */
  inspect(req: IncomingMessage, res: ServerResponse, body: unknown): number {
    const messages = (Array.isArray(body) ? body : [body]).filter(
      (m): m is JsonRpc => typeof m === 'object' && m !== null,
    );
    const session = sessionOf(req);
    if (!session && messages.some((m) => m.method === 'initialize')) {
      // Stateless serving ignores the header; the client echoes it, which identifies its later POSTs.
      res.setHeader('Mcp-Session-Id', randomUUID());
      return 0;
    }
    let cancelled = 0;
    for (const m of messages) {
      if (m.method === 'notifications/cancelled') {
        cancelled += this.cancel(session, m.params?.requestId);
      } else if (
        session &&
        typeof m.method === 'string' &&
        (typeof m.id === 'string' || typeof m.id === 'number')
      ) {
        this.track(keyOf(session, m.id), res);
      }
    }
    return cancelled;
  }

  get size(): number {
    return this.inflight.size;
  }

  private track(key: string, res: ServerResponse): void {
    const set = this.inflight.get(key) ?? new Set<ServerResponse>();
    set.add(res);
    this.inflight.set(key, set);
    res.once('close', () => {
      set.delete(res);
      if (set.size === 0 && this.inflight.get(key) === set) this.inflight.delete(key);
    });
  }

  private cancel(session: string, requestId: unknown): number {
    // Without a session nothing says whose call an id is: such calls end by closing their stream.
    if (!session) return 0;
    if (typeof requestId !== 'string' && typeof requestId !== 'number') return 0;
    const set = this.inflight.get(keyOf(session, requestId));
    if (set?.size !== 1) return 0;
    for (const res of set) res.destroy();
    return 1;
  }
}
