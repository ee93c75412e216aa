// Who may talk to the HTTP server: Host and Origin checks against DNS rebinding and browser pages,
// and the bearer token. Pure functions over request headers.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { networkInterfaces, hostname as osHostname } from 'node:os';

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** A loopback address or name: localhost, 127.0.0.0/8, ::1. */
export function isLoopback(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/\.$/, '');
  return LOOPBACK_NAMES.has(h) || /^127(\.\d{1,3}){3}$/.test(h) || h.endsWith('.localhost');
}

const WILDCARDS = new Set(['0.0.0.0', '::', '[::]']);

/** Host names a client may put in `Host` for a server bound to `bindHost`. */
export function allowedHostnames(bindHost: string, extra: readonly string[] = []): Set<string> {
  const names = new Set(['localhost', '127.0.0.1', '[::1]', ...extra]);
  const bound = bindHost.toLowerCase();
  if (WILDCARDS.has(bound)) {
    // Bound to every interface (with a token): any of this machine's addresses or its name.
    names.add(osHostname().toLowerCase());
    for (const list of Object.values(networkInterfaces())) {
      for (const a of list ?? []) names.add(a.family === 'IPv6' ? `[${a.address.toLowerCase()}]` : a.address);
    }
  } else {
    names.add(bound.includes(':') && !bound.startsWith('[') ? `[${bound}]` : bound);
  }
  return names;
}

/** The hostname of a `Host` header value ("[::1]" keeps its brackets), or undefined if malformed. */
export function hostnameOf(hostHeader: string): string | undefined {
  try {
    const url = new URL(`http://${hostHeader}`);
    if (url.username || url.password || url.pathname !== '/' || url.search || url.hash) return undefined;
    return url.hostname.toLowerCase();
  } catch {
    return undefined;
  }
}

/** Whether an `Origin` value is a page served from this machine (http or https, any port). */
export function isLocalOrigin(origin: string): boolean {
  try {
    const url = new URL(origin);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return false;
    return isLoopback(url.hostname);
  } catch {
    return false;
  }
}

/** Constant-time comparison of a presented token with the expected one. */
export function tokenMatches(presented: string, expected: string): boolean {
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  return timingSafeEqual(digest(presented), digest(expected));
}

export interface GuardOptions {
  allowedHosts: ReadonlySet<string>;
  token: string | undefined;
  /** For read-only endpoints scraped from other hosts (metrics): the token alone decides. */
  skipHostCheck?: boolean;
}

export type GuardVerdict = { ok: true } | { ok: false; status: 401 | 403; message: string };

export function guardRequest(headers: IncomingHttpHeaders, o: GuardOptions): GuardVerdict {
  const host = headers.host;
  const hostname = host ? hostnameOf(host) : undefined;
  if (!o.skipHostCheck && (!hostname || !o.allowedHosts.has(hostname))) {
    return { ok: false, status: 403, message: `Host "${host ?? ''}" is not allowed` };
  }
  const origin = headers.origin;
  if (origin !== undefined && !isLocalOrigin(origin)) {
    return { ok: false, status: 403, message: `Origin "${origin}" is not allowed` };
  }
  if (o.token !== undefined) {
    const auth = headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (!match?.[1] || !tokenMatches(match[1], o.token)) {
      return {
        ok: false,
        status: 401,
        message: 'a valid "Authorization: Bearer <EXAI_HTTP_TOKEN>" is required',
      };
    }
  }
  return { ok: true };
}
