// 2026-07-28 `subscriptions/listen` streams over HTTP: long-lived SSE responses that hold no call.
// A drain ends them at once, gracefully (the listen request's final result, then the end of the
// stream), so clients move to another instance instead of a pod waiting out its drain timeout.
import { SUBSCRIPTION_ID_META_KEY } from '@modelcontextprotocol/server';
import { idOf } from './limits.js';

type FetchHandler = (request: Request, options?: { parsedBody?: unknown }) => Promise<Response>;

export function isListen(body: unknown): boolean {
  return (body as { method?: unknown } | null)?.method === 'subscriptions/listen' && idOf(body) !== null;
}

export class Subscriptions {
  private readonly open = new Set<() => void>();
  private ending = false;

  get size(): number {
    return this.open.size;
  }

  /** Wraps a fetch handler so that listen streams can be ended by `endAll()`. */
  wrap(fetch: FetchHandler): FetchHandler {
    return async (request, options) => {
      const response = await fetch(request, options);
      const body = options?.parsedBody;
      if (!isListen(body) || !response.body || !response.ok) return response;
      return new Response(this.endable(response.body, idOf(body)), {
        status: response.status,
        headers: response.headers,
      });
    };
  }

  /** Ends every listen stream now and any opened later (the server is draining). */
  endAll(): void {
    this.ending = true;
    for (const end of [...this.open]) end();
  }

  private endable(
    source: ReadableStream<Uint8Array>,
    id: string | number | null,
  ): ReadableStream<Uint8Array> {
    const reader = source.getReader();
    const open = this.open;
    let end!: () => void;
    return new ReadableStream<Uint8Array>({
      start: (controller) => {
        let ended = false;
        end = () => {
          if (ended) return;
          ended = true;
          open.delete(end);
          const result = {
            jsonrpc: '2.0',
            id,
            result: { resultType: 'complete', _meta: { [SUBSCRIPTION_ID_META_KEY]: id } },
          };
          controller.enqueue(new TextEncoder().encode(`event: message\ndata: ${JSON.stringify(result)}\n\n`));
          controller.close();
          reader.cancel().catch(() => {});
        };
        open.add(end);
        if (this.ending) end();
      },
      pull: async (controller) => {
        try {
          const { done, value } = await reader.read();
          if (!open.has(end)) return;
          if (done) {
            open.delete(end);
            controller.close();
          } else controller.enqueue(value);
        } catch (error) {
          open.delete(end);
          controller.error(error);
        }
      },
      cancel: () => {
        open.delete(end);
        return reader.cancel();
      },
    });
  }
}
