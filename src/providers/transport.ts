// The one seam for upstream HTTP: node:http/https with keep-alive agents and the standard proxy variables.
import http, { type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import type https from 'node:https';
import { getProxyForUrl } from 'proxy-from-env';
import { NodeResponse } from './node-response.js';

export { headersInBody, responseHeader } from './node-response.js';

export interface HttpRequest {
  /** POST (the default) with `body`, or GET without one. */
  method?: 'GET' | 'POST';
  url: string;
  headers: Record<string, string>;
  body: string;
  signal: AbortSignal;
  /**
   * Told of the outgoing request as soon as it exists: the caller then closes it through the
   * handle, for a deadline of its own (a stream's first token covers the wait for the headers) and
   * for the signal too, so the transport adds no listener to the signal (a listener costs about
   * 0.5 KB of heap per open stream). A transport that does not call it works through `signal`,
   * which then also aborts at the caller's own deadlines (a stream's `signal` is made when read).
   */
  handle?: RequestHandle;
}

/** Receives the request a transport sends; `destroy(reason)` closes it (the promise rejects with it). */
export interface RequestHandle {
  attach(request: { destroy(reason?: Error): unknown }): void;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /**
   * The body stream; destroy it to close the connection early. It must emit its own events (its
   * listeners are called with it as `this`): an IncomingMessage or another Readable, not a wrapper
   * that forwards `on`/`off` to a stream inside it.
   */
  body: IncomingMessage;
}

export interface Transport {
  request(req: HttpRequest): Promise<HttpResponse>;
  /** Closes idle keep-alive sockets (in-flight requests are left alone). */
  close(): void;
}

export interface TransportOptions {
  /** Sockets per origin; streams are long-lived, so the default is effectively unlimited. */
  maxSockets?: number;
}

/** node:https, loaded synchronously on first use (process.getBuiltinModule: Node 20.16+). */
const httpsModule = (): typeof https => process.getBuiltinModule('node:https');

export function createTransport(options: TransportOptions = {}): Transport {
  const agentOptions = {
    keepAlive: true,
    maxSockets: options.maxSockets ?? Number.POSITIVE_INFINITY,
    scheduling: 'lifo' as const,
  };
  // node:https (and with it tls and crypto: about 1 MB and several ms of a cold start) is loaded on
  // the first https request, so `import('exai')` and CLI start-up without one do not pay for it.
  const direct: { http: http.Agent; https?: https.Agent } = { http: new http.Agent(agentOptions) };
  const httpsAgent = () => {
    direct.https ??= new (httpsModule().Agent)(agentOptions);
    return direct.https;
  };
  // Proxy agents are loaded only when a proxy applies: most processes never need them (~10 MB).
  const proxied = new Map<string, Promise<http.Agent>>();

  // The proxy variables are read once per origin (about 3 us a request otherwise); a transport
  // created after they change sees the new values.
  const proxyByOrigin = new Map<string, string>();
  const agentFor = (url: URL): http.Agent | Promise<http.Agent> => {
    let proxy = proxyByOrigin.get(url.origin);
    if (proxy === undefined) {
      proxy = getProxyForUrl(url.href);
      proxyByOrigin.set(url.origin, proxy);
    }
    const secure = url.protocol === 'https:';
    if (!proxy) return secure ? httpsAgent() : direct.http;
    const key = `${secure ? 'https' : 'http'} ${proxy}`;
    let agent = proxied.get(key);
    if (!agent) {
      agent = secure
        ? import('https-proxy-agent').then((m) => new m.HttpsProxyAgent(proxy, agentOptions))
        : import('http-proxy-agent').then((m) => new m.HttpProxyAgent(proxy, agentOptions));
      proxied.set(key, agent);
    }
    return agent;
  };

  const send = (url: URL, agent: http.Agent, req: HttpRequest): Promise<HttpResponse> => {
    const lib = url.protocol === 'https:' ? httpsModule() : http;
    // With a handle the caller closes the request itself: its signal is not even read (a run
    // creates its signal only when something asks for it).
    const signal = req.handle ? undefined : req.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    // A Buffer, not the string: with a string body, each open stream held about 0.5 KB more heap
    // (measured at 1,000 open streams).
    const body = req.method === 'GET' ? undefined : Buffer.from(req.body, 'utf8');
    let outgoing: http.ClientRequest;
    try {
      outgoing = lib.request(url, {
        method: req.method ?? 'POST',
        agent,
        headers: body === undefined ? req.headers : withLength(req.headers, body.length),
      });
    } catch (error) {
      // A header node refuses (a key with a line break): the same rejection as a network error.
      return Promise.reject(error);
    }
    // Wired in a scope of its own: what lives as long as the request (its listeners) must not keep
    // the URL, the body or the request options alive.
    const response = settle(outgoing, signal);
    req.handle?.attach(outgoing);
    outgoing.setNoDelay(true);
    outgoing.end(body);
    return response;
  };

  // The last URL asked for, parsed once with its agent: a client sends all its requests to one URL,
  // and parsing it again costs about 10 us a request in a process that has been doing other work
  // (0.6 us in a tight loop). Clients of other URLs on the same transport only parse as before.
  let last: { href: string; url: URL; agent: http.Agent | Promise<http.Agent> } | undefined;

  return {
    request(req) {
      let target = last;
      if (target?.href !== req.url) {
        const url = new URL(req.url);
        target = last = { href: req.url, url, agent: agentFor(url) };
      }
      const { url, agent } = target;
      if (!(agent instanceof Promise)) return send(url, agent, req);
      return agent.then((a) => {
        // Closed while the proxy agent loaded: no connection to the proxy for nothing.
        if (req.handle && req.signal.aborted) throw req.signal.reason;
        return send(url, a, req);
      });
    },
    close() {
      direct.http.destroy();
      direct.https?.destroy();
      for (const agent of proxied.values())
        agent.then(
          (a) => a.destroy(),
          () => {},
        );
      proxied.clear();
      last = undefined;
    },
  };
}

/**
 * The request's headers and its body's length. Copied with Object.assign: V8 gives each object
 * made by a spread plus a key of its own a hidden class of its own, about 220 bytes more for as
 * long as the connection keeps the request's options (a pooled socket keeps them).
 */
function withLength(headers: Record<string, string>, length: number): Record<string, string> {
  const all = Object.assign({}, headers);
  all['content-length'] = String(length);
  return all;
}

/**
 * The response of `outgoing`; the abort is wired by hand: node's `signal` request option costs
 * about 40 us per request (stream end-of-life listeners), a tenth of a short stream's whole cost.
 */
function settle(outgoing: http.ClientRequest, signal: AbortSignal | undefined): Promise<HttpResponse> {
  return new Promise<HttpResponse>((resolve, reject) => {
    if (signal) {
      const onAbort = () => outgoing.destroy(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      // 'close' comes once the response has been read to the end or the request was destroyed.
      outgoing.once('close', () => signal.removeEventListener('abort', onAbort));
    }
    outgoing.once('response', (res) => {
      // Answered: `reject` (and with it this promise and its response) need not live as long as
      // the request does. A later error is the body's to report.
      outgoing.off('error', reject);
      outgoing.on('error', ignore);
      resolve(new NodeResponse(res));
    });
    // 'on', not 'once': a late second error must not become an uncaught exception.
    outgoing.on('error', reject);
  });
}

/** A request's errors once it was answered: the body's own events say how the read ended. */
function ignore(): void {}

let shared: Transport | undefined;

/** The process-wide transport, so every client shares one connection pool. */
export function sharedTransport(): Transport {
  shared ??= createTransport();
  return shared;
}
