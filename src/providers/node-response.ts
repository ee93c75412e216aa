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
 * `headers` is an own, enumerable accessor (a spread copies it), defined from one descriptor that
 * every response shares: one hidden class, no closures per response. It used to be an object
 * literal with a getter and a setter; V8 keeps such a literal's accessor pair in old space, and the
 * pair's closures held the body and its request through every minor GC until the next full one
 * (docs/performance.md, "What changed: a finished stream no longer outlives a minor GC").
 */
export class NodeResponse implements HttpResponse {
  status: number;
  declare headers: IncomingHttpHeaders;
  declare body: IncomingMessage;
  /** Node's response, whatever a wrapper later puts in `body`. */
  readonly #res: IncomingMessage;
  /** Headers a caller set in place of node's. */
  #replaced: IncomingHttpHeaders | undefined;
  /** Nobody has read or replaced the headers: node has not parsed them. */
  #fresh = true;

  constructor(res: IncomingMessage) {
    this.#res = res;
    this.status = res.statusCode ?? 0;
    // In the order of the object this was: status, headers, body.
    Object.defineProperty(this, 'headers', HEADERS);
    this.body = res;
  }

  /**
   * True while `res` is one of these, its headers are node's own and unread, and its body is still
   * node's response (which then has them too). Own only, as a brand check is: a Proxy of one, an
   * `Object.create(res)` or a copy is not fresh, and reads `headers`.
   */
  static fresh(res: HttpResponse): boolean {
    return #fresh in res && res.#fresh && res.body === res.#res;
  }

  /**
   * The getter, for any `this`: the response itself, an object made with it as prototype (found
   * along the chain), or one that only copied the accessor or wraps it in a Proxy (its own `body`).
   */
  static readHeaders(self: HttpResponse): IncomingHttpHeaders {
    const own = NodeResponse.holder(self);
    if (!own) return self.body.headers;
    own.#fresh = false;
    return own.#replaced ?? own.#res.headers;
  }

  /** The setter, for the same `this` as the getter; one without a response behind it gets a data property. */
  static replaceHeaders(self: HttpResponse, headers: IncomingHttpHeaders): void {
    const own = NodeResponse.holder(self);
    if (!own) {
      Object.defineProperty(self, 'headers', {
        value: headers,
        writable: true,
        enumerable: true,
        configurable: true,
      });
      return;
    }
    own.#fresh = false;
    own.#replaced = headers;
  }

  /** The response on `self`'s prototype chain (itself first), if any. */
  private static holder(self: object): NodeResponse | undefined {
    for (let o: object | null = self; o !== null; o = Object.getPrototypeOf(o)) {
      if (#fresh in o) return o;
    }
    return undefined;
  }
}

const HEADERS: PropertyDescriptor = {
  get(this: HttpResponse) {
    return NodeResponse.readHeaders(this);
  },
  set(this: HttpResponse, headers: IncomingHttpHeaders) {
    NodeResponse.replaceHeaders(this, headers);
  },
  enumerable: true,
  configurable: true,
};

/** True while `res` is this transport's and its headers are node's own, unread: `body` has them too. */
export const headersInBody = (res: HttpResponse): boolean => NodeResponse.fresh(res);

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
