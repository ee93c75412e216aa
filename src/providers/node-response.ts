// The response of exai's own transport: node's IncomingMessage, with its headers parsed only when
// something reads them.
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import type { HttpResponse } from './transport.js';

/**
 * A response of exai's transport. Its headers are parsed when first read, not here: node keeps what
 * it parsed for as long as the body lives (about 0.1 KB a stream), and a stream needs only its
 * content type (`responseHeader`). Once they are read (a wrapping transport that spreads or edits
 * them) or replaced, they are what every reader sees.
 *
 * `headers` is an own, enumerable accessor, so a spread copies it, made from one descriptor that
 * every response shares: all responses have one hidden class and no closures of their own. An
 * object literal with an accessor (what this was) is built on V8's slow path with what it points to
 * kept from old space, so the body, its request and the stream that read it lived through every
 * minor GC until the next full one: about 6 KB of each finished stream promoted, and scavenges 5 to
 * 10 times as long (test/minor-gc.test.ts).
 */
export class NodeResponse implements HttpResponse {
  status: number;
  body: IncomingMessage;
  declare headers: IncomingHttpHeaders;
  /** Headers a caller set in place of node's. */
  #replaced: IncomingHttpHeaders | undefined;
  /** Nobody has read or replaced the headers: node has not parsed them. */
  #fresh = true;

  constructor(res: IncomingMessage) {
    this.status = res.statusCode ?? 0;
    this.body = res;
    Object.defineProperty(this, 'headers', HEADERS);
  }

  /** True while `res` is one of these and its headers are node's own, unread: `body` has them too. */
  static fresh(res: HttpResponse): boolean {
    return res instanceof NodeResponse && res.#fresh;
  }

  /** @internal The accessor's getter. */
  static readHeaders(res: NodeResponse): IncomingHttpHeaders {
    res.#fresh = false;
    return res.#replaced ?? res.body.headers;
  }

  /** @internal The accessor's setter. */
  static replaceHeaders(res: NodeResponse, headers: IncomingHttpHeaders): void {
    res.#fresh = false;
    res.#replaced = headers;
  }
}

const HEADERS: PropertyDescriptor = {
  get(this: NodeResponse) {
    return NodeResponse.readHeaders(this);
  },
  set(this: NodeResponse, headers: IncomingHttpHeaders) {
    NodeResponse.replaceHeaders(this, headers);
  },
  enumerable: true,
  configurable: true,
};

/** True while `res` is this transport's and its headers are node's own, unread: `body` has them too. */
export function headersInBody(res: HttpResponse): boolean {
  return NodeResponse.fresh(res);
}

/**
 * One header of a response (the first, if repeated): from node's raw list while nobody has read
 * the headers (so node does not parse and keep all of them), otherwise from `headers`.
 */
export function responseHeader(res: HttpResponse, name: string): string | undefined {
  if (!NodeResponse.fresh(res)) {
    const value = res.headers[name];
    return Array.isArray(value) ? value[0] : value;
  }
  const raw = res.body.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const key = raw[i] as string;
    if (key.length === name.length && key.toLowerCase() === name) return raw[i + 1];
  }
  return undefined;
}
