// `exai serve --http`: Streamable HTTP at /mcp (SSE responses) on node:http, behind Host, Origin
// and bearer-token checks. Every request is served by a fresh server instance from one factory.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { toNodeHandler } from '@modelcontextprotocol/node';
import { createMcpHandler } from '@modelcontextprotocol/server';
import { ConfigError } from '../errors.js';
import { sleep } from '../streaming/retry.js';
import { describeError } from './errors.js';
import { LegacyCancellation } from './http-cancel.js';
import { allowedHostnames, guardRequest, isLoopback } from './http-guard.js';
import { createRuntime, type ServeOptions } from './runtime.js';
import { buildServer } from './tools.js';

export const MCP_PATH = '/mcp';
const MAX_BODY_BYTES = 4 * 1024 * 1024;

export interface HttpServerHandle {
  /** `http://host:port/mcp` */
  url: string;
  port: number;
  /** Aborts every call in flight at once, then closes every connection. */
  close(): Promise<void>;
  /**
   * Graceful stop (SIGTERM): not ready, no new connections or calls, in-flight calls get up to
   * `timeoutMs` to finish; the rest are aborted (their results say so), then `close()`.
   */
  drain(timeoutMs: number): Promise<void>;
}

/** The JSON body of a POST; undefined (after answering) when it is too large or not JSON. */
async function readJson(req: IncomingMessage, res: ServerResponse): Promise<{ body: unknown } | undefined> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of req as AsyncIterable<Buffer>) {
    size += part.length;
    if (size > MAX_BODY_BYTES) {
      reject(res, 413, `request body larger than ${MAX_BODY_BYTES} bytes`);
      req.destroy();
      return undefined;
    }
    parts.push(part);
  }
  try {
    return { body: JSON.parse(Buffer.concat(parts).toString('utf8')) };
  } catch {
    const body = JSON.stringify({
      jsonrpc: '2.0',
      error: { code: -32700, message: 'Parse error' },
      id: null,
    });
    res.writeHead(400, { 'content-type': 'application/json' }).end(body);
    return undefined;
  }
}

function plain(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8') {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}

function reject(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}) {
  const body = JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null });
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(body);
}

export async function serveHttp(
  opts: ServeOptions & { host: string; port: number },
): Promise<HttpServerHandle> {
  const { host, port, logger } = opts;
  const token = opts.config.httpToken;
  if (!isLoopback(host) && !token) {
    throw new ConfigError(
      `refusing to serve MCP on ${host} without a token: set EXAI_HTTP_TOKEN, or bind 127.0.0.1`,
    );
  }
  const rt = createRuntime(opts, true);
  const allowedHosts = allowedHostnames(host, opts.config.httpAllowedHosts);
  let draining = false;
  const onerror = (error: Error) => logger.warn('MCP HTTP error', { error: describeError(error) });
  const mcp = createMcpHandler(() => buildServer(rt), { responseMode: 'sse', onerror });
  const handle = toNodeHandler(mcp, { onerror });
  const cancellation = new LegacyCancellation();

  // Every HTTP exchange in flight (not only chat calls), so a drain lets an `initialize` finish too.
  let exchanges = 0;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    exchanges++;
    res.once('close', () => exchanges--);
    // Reverse proxies (nginx) must not hold SSE frames back.
    res.setHeader('X-Accel-Buffering', 'no');
    const path = (req.url ?? '/').split('?')[0];
    // Probes come from the orchestrator with its own Host header and no token: they reveal nothing.
    if (path === '/healthz') return plain(res, 200, 'ok\n');
    if (path === '/readyz') return draining ? plain(res, 503, 'draining\n') : plain(res, 200, 'ready\n');
    if (path === '/metrics') {
      const auth = guardRequest(req.headers, { allowedHosts, token, skipHostCheck: true });
      if (!auth.ok) return reject(res, auth.status, auth.message, { 'www-authenticate': 'Bearer' });
      rt.metrics.text().then(
        (text) => plain(res, 200, text, rt.metrics.contentType),
        () => plain(res, 500, 'metrics unavailable\n'),
      );
      return;
    }
    const verdict = guardRequest(req.headers, { allowedHosts, token });
    if (!verdict.ok) {
      logger.warn('HTTP request rejected', { status: verdict.status, reason: verdict.message });
      const challenge: Record<string, string> =
        verdict.status === 401 ? { 'www-authenticate': 'Bearer' } : {};
      return reject(res, verdict.status, verdict.message, challenge);
    }
    if (path !== MCP_PATH) return reject(res, 404, `not found: the MCP endpoint is ${MCP_PATH}`);
    if (draining && req.method === 'POST') {
      return reject(res, 503, 'the server is shutting down; retry on another instance', {
        connection: 'close',
      });
    }
    serve(req, res).catch((error: unknown) => {
      logger.error('MCP HTTP request failed', { error: describeError(error) });
      if (!res.headersSent) reject(res, 500, 'internal error');
      else res.destroy();
    });
  });

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (req.method !== 'POST') return handle(req, res);
    const parsed = await readJson(req, res);
    if (!parsed) return;
    if (cancellation.inspect(req, res, parsed.body) > 0)
      logger.debug('cancelled a call on request of its client');
    return handle(req, res, parsed.body);
  }
  server.on('clientError', (_error, socket) => socket.destroy());

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
  let stopped: Promise<void> | undefined;
  const stopListening = () => {
    stopped ??= new Promise<void>((resolve) => server.close(() => resolve()));
    return stopped;
  };
  function close(): Promise<void> {
    closing ??= (async () => {
      draining = true;
      const listening = stopListening();
      // Abort first (upstream sockets close at once), then let the handlers write their results
      // (partial answers flagged interrupted) before the connections go.
      await rt.closeAll();
      await sleep(20);
      server.closeAllConnections();
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
      stopListening();
      server.closeIdleConnections();
      const deadline = Date.now() + timeoutMs;
      while ((rt.active > 0 || exchanges > 0) && Date.now() < deadline) {
        await sleep(Math.min(20, deadline - Date.now()));
      }
      if (rt.active > 0)
        logger.warn('drain timeout: aborting calls still in flight', { inFlight: rt.active });
      return close();
    },
  };
}
