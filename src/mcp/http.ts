// `exai serve --http`: Streamable HTTP at /mcp (SSE responses) on node:http, behind Host, Origin
// and bearer-token checks, with every buffer bounded. Every request is served by a fresh server
// instance from one factory.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler } from '@modelcontextprotocol/server';
import { ConfigError } from '../errors.js';
import { redact } from '../log.js';
import { sleep } from '../streaming/retry.js';
import { CONNECTION_HEADER, registerConnection, streamWritability, UnwritableWatch } from './backpressure.js';
import { describeError } from './errors.js';
import { BodyReader, LINGER_MS, refuseRequest, sendJson } from './http-body.js';
import { LegacyCancellation } from './http-cancel.js';
import { allowedHostnames, ambiguity, bindRefusal, guardOrigin, guardRequest } from './http-guard.js';
import { isListen, Subscriptions } from './http-streams.js';
import {
  idOf,
  isChatCall,
  MAX_BUFFERED_BODY_BYTES,
  MAX_MESSAGE_BYTES,
  MAX_UNWRITABLE_MS,
  rpcError,
} from './limits.js';
import { createRuntime, type ServeOptions } from './runtime.js';
import { buildServer } from './tools.js';

export const MCP_PATH = '/mcp';

export interface HttpServerHandle {
  /** `http://host:port/mcp` */
  url: string;
  port: number;
  /** Aborts every call in flight at once, then closes every connection. */
  close(): Promise<void>;
  /**
   * Graceful stop (SIGTERM): `/readyz` 503 and new calls refused at once (the listener stays open
   * for probes), subscription streams ended, in-flight calls get up to `timeoutMs` to finish (exit
   * as soon as none is left); the rest are aborted (their results say so), then `close()`.
   */
  drain(timeoutMs: number): Promise<void>;
}

export interface HttpServeOptions extends ServeOptions {
  host: string;
  port: number;
  /** How long a response may stay unwritable before it is cut (default {@link MAX_UNWRITABLE_MS}). */
  maxUnwritableMs?: number;
}

function plain(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8') {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}

/** A refusal before the body is read: the body is dropped, within the same bound as a refused one. */
function reject(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}) {
  const answer = () => sendJson(res, status, rpcError(null, -32000, message), headers);
  refuseRequest(res.req, res, answer, LINGER_MS, headers.connection === 'close');
}

export async function serveHttp(opts: HttpServeOptions): Promise<HttpServerHandle> {
  const { host, port, logger } = opts;
  const token = opts.config.httpToken;
  const refusal = await bindRefusal(host, token);
  if (refusal) throw new ConfigError(refusal);
  const rt = createRuntime(opts, true);
  const allowedHosts = allowedHostnames(host, opts.config.httpAllowedHosts);
  let draining = false;
  const onerror = (error: Error) => logger.warn('MCP HTTP error', { error: describeError(error) });
  const mcp = createMcpHandler(() => buildServer(rt), {
    responseMode: 'sse',
    onerror,
    maxRequestBodySize: MAX_MESSAGE_BYTES,
  });
  const subscriptions = new Subscriptions();
  const handle = toNodeHandler({ ...mcp, fetch: subscriptions.wrap(mcp.fetch.bind(mcp)) } as typeof mcp, {
    onerror,
  });
  const cancellation = new LegacyCancellation();
  const bodies = new BodyReader(MAX_MESSAGE_BYTES, MAX_BUFFERED_BODY_BYTES);
  const unwritable = new UnwritableWatch(opts.maxUnwritableMs ?? MAX_UNWRITABLE_MS, (_s, blockedMs) =>
    logger.warn('cut a client that stopped reading its response; its call is cancelled', {
      blockedMs: Math.round(blockedMs),
    }),
  );
  // 2025-era standalone GET streams: like subscriptions, they hold no call and end at a drain.
  const standalone = new Set<ServerResponse>();

  // MCP exchanges in flight (not only chat calls, not subscription streams), so a drain lets an
  // `initialize` finish too but never waits on a stream that has no end.
  let exchanges = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    // Reverse proxies (nginx) must not hold SSE frames back.
    res.setHeader('X-Accel-Buffering', 'no');
    const path = (req.url ?? '/').split('?')[0];
    // Probes come from the orchestrator with its own Host header and no token: they reveal nothing.
    if (path === '/healthz') return plain(res, 200, 'ok\n');
    if (path === '/readyz') return draining ? plain(res, 503, 'draining\n') : plain(res, 200, 'ready\n');
    const ambiguous = ambiguity(req.rawHeaders);
    if (ambiguous) {
      logger.warn('HTTP request rejected', { status: 400, reason: ambiguous });
      return reject(res, 400, ambiguous, { connection: 'close' });
    }
    const origin = guardOrigin(req.headers, { allowedHosts, token });
    if (!origin.ok) {
      logger.warn('HTTP request rejected', { status: origin.status, reason: origin.message });
      return reject(res, origin.status, origin.message);
    }
    // Unknown paths are 404 with or without a token: a 401 there sends MCP hosts into OAuth discovery.
    if (path !== MCP_PATH && path !== '/metrics') {
      return reject(res, 404, `not found: the MCP endpoint is ${MCP_PATH}`);
    }
    const verdict = guardRequest(req.headers, { allowedHosts, token });
    if (!verdict.ok) {
      logger.warn('HTTP request rejected', { status: verdict.status, reason: verdict.message });
      return reject(res, verdict.status, verdict.message, { 'www-authenticate': 'Bearer' });
    }
    if (path === '/metrics') {
      rt.metrics.text().then(
        (text) => plain(res, 200, redact(text), rt.metrics.contentType),
        () => plain(res, 500, 'metrics unavailable\n'),
      );
      return;
    }
    if (draining) {
      return reject(res, 503, 'the server is shutting down; retry on another instance', {
        connection: 'close',
        'retry-after': '1',
      });
    }
    serve(req, res).catch((error: unknown) => {
      logger.error('MCP HTTP request failed', { error: describeError(error) });
      if (!res.headersSent) reject(res, 500, 'internal error');
      else res.destroy();
    });
  });

  /** Names the response in a header the tools read back, so progress can ask it for writability. */
  const tagConnection = (req: IncomingMessage, res: ServerResponse) => {
    const { id, release } = registerConnection(streamWritability(res));
    req.headers[CONNECTION_HEADER] = id;
    res.once('close', release);
  };

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') {
      if (req.method === 'GET') {
        standalone.add(res);
        res.once('close', () => standalone.delete(res));
      }
      tagConnection(req, res);
      return handle(req, res);
    }
    // Counted from the first byte: a drain must not exit under a call whose body is still arriving.
    let counted = true;
    exchanges++;
    res.once('close', () => {
      if (counted) exchanges--;
    });
    const parsed = await bodies.read(req, res, (status, body, headers) =>
      sendJson(res, status, body, headers),
    );
    if (!parsed) return;
    const { body } = parsed;
    if (!admit(body, res)) return;
    if (isListen(body)) {
      counted = false;
      exchanges--;
    } else unwritable.watch(res);
    if (cancellation.inspect(req, res, body) > 0) logger.debug('cancelled a call on request of its client');
    tagConnection(req, res);
    return handle(req, res, body);
  }

  /** Takes a slot per chat call in the body until its response closes; false when refused. */
  function admit(body: unknown, res: ServerResponse): boolean {
    const messages = Array.isArray(body) ? body : [body];
    const calls = messages.filter(isChatCall);
    if (calls.length === 0) return true;
    const releases: Array<() => void> = [];
    for (const _ of calls) {
      const release = rt.limiter.tryAcquire(rt.active);
      if (!release) break;
      releases.push(release);
    }
    if (releases.length === calls.length) {
      res.once('close', () => {
        for (const release of releases) release();
      });
      return true;
    }
    for (const release of releases) release();
    logger.warn('chat call refused: EXAI_MAX_CONCURRENT_CALLS reached', { max: rt.limiter.max });
    // A batch is refused whole: every request in it gets the same retryable error.
    const refusals = messages.filter((m) => idOf(m) !== null).map((m) => rt.limiter.refusal(idOf(m)));
    sendJson(res, 200, Array.isArray(body) ? refusals : (refusals[0] ?? {}), { 'retry-after': '1' });
    return false;
  }
  server.on('clientError', (_error, socket) => socket.destroy());
  // `Expect: 100-continue` (curl sends it for bodies over 1 MB): a body declared over the limit is
  // refused before the client sends it; any other request is invited to send, then handled as usual.
  server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    if (!bodies.declaresTooMuch(req)) res.writeContinue();
    server.emit('request', req, res);
  });

  await new Promise<void>((resolve, fail) => {
    const onListenError = (error: NodeJS.ErrnoException) => {
      rt.closeTransport();
      fail(new ConfigError(`cannot listen on ${host}:${port}: ${error.code ?? error.message}`));
    };
    server.once('error', onListenError);
    server.listen(port, host, () => {
      server.off('error', onListenError);
      resolve();
    });
  });
  server.on('error', (error) => logger.error('MCP HTTP server error', { error: describeError(error) }));
  const bound = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  function close(): Promise<void> {
    closing ??= (async () => {
      draining = true;
      const listening = new Promise<void>((resolve) => server.close(() => resolve()));
      // Abort first (upstream sockets close at once), then let the handlers write their results
      // (partial answers flagged interrupted) before the connections go.
      await rt.closeAll();
      await sleep(20);
      subscriptions.endAll();
      server.closeAllConnections();
      unwritable.stop();
      await mcp.close().catch((error: unknown) => onerror(error as Error));
      await listening;
      rt.closeTransport();
    })();
    return closing;
  }

  return {
    url: `http://${urlHost}:${bound}${MCP_PATH}`,
    port: bound,
    close,
    async drain(timeoutMs) {
      if (closing) return closing;
      draining = true;
      logger.info('draining', { inFlight: rt.active, timeoutMs });
      subscriptions.endAll();
      for (const res of standalone) res.destroy();
      server.closeIdleConnections();
      const deadline = performance.now() + timeoutMs;
      while ((rt.active > 0 || exchanges > 0) && performance.now() < deadline) {
        await sleep(Math.min(10, deadline - performance.now()));
      }
      if (rt.active > 0)
        logger.warn('drain timeout: aborting calls still in flight', { inFlight: rt.active });
      return close();
    },
  };
}
