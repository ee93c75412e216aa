// Who may talk to the HTTP server: Host and Origin checks against DNS rebinding and browser pages,
// and the bearer token. Pure functions over request headers.
import { createHash, timingSafeEqual } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import type { IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';
import { networkInterfaces, hostname as osHostname } from 'node:os';

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** A loopback address or name: localhost, 127.0.0.0/8, ::1. */
export function isLoopback(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/\.$/, '');
  return LOOPBACK_NAMES.has(h) || /^127(\.\d{1,3}){3}$/.test(h) || h.endsWith('.localhost');
}

/** Whether an IP address is a loopback one (127.0.0.0/8, ::1, ::ffff:127.x.y.z). */
export function isLoopbackAddress(address: string): boolean {
  const a = address.toLowerCase().replace(/^\[|\]$/g, '');
  if (a === '::1') return true;
  const v4 = a.startsWith('::ffff:') ? a.slice(7) : a;
  return isIP(v4) === 4 && v4.startsWith('127.');
}

/**
 * Whether `host` binds loopback only, decided on what it resolves to (every address), not on how
 * it is spelled: a name in /etc/hosts or DNS can point anywhere.
 */
export async function bindsLoopbackOnly(host: string): Promise<boolean> {
  const h = host.trim().replace(/^\[|\]$/g, '');
  if (isIP(h)) return isLoopbackAddress(h);
  try {
    const addresses = await lookup(h, { all: true });
    return addresses.length > 0 && addresses.every((a) => isLoopbackAddress(a.address));
  } catch {
    return false;
  }
}

/** Shortest `EXAI_HTTP_TOKEN` accepted for a server reachable from other machines. */
export const MIN_TOKEN_LENGTH = 32;
const TOKEN_HINT =
  "generate one with: node -e \"console.log(require('node:crypto').randomBytes(32).toString('hex'))\"";

/** Why serving `host` with `token` is refused, or undefined when it is fine. */
export async function bindRefusal(host: string, token: string | undefined): Promise<string | undefined> {
  if (await bindsLoopbackOnly(host)) return undefined;
  if (!token)
    return `refusing to serve MCP on ${host} without a token: set EXAI_HTTP_TOKEN (${TOKEN_HINT}), or bind 127.0.0.1`;
  if (token.length < MIN_TOKEN_LENGTH) {
    return `refusing to serve MCP on ${host}: EXAI_HTTP_TOKEN has ${token.length} characters, at least ${MIN_TOKEN_LENGTH} are needed off loopback; ${TOKEN_HINT}`;
  }
  return undefined;
}

/** How many times a header occurs in the raw request (Node keeps only the first Host or Authorization). */
export function headerCount(rawHeaders: readonly string[], name: string): number {
  let n = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i]?.toLowerCase() === name) n++;
  return n;
}

/** A request that two parties could read differently: two Host or two Authorization headers. */
export function ambiguity(rawHeaders: readonly string[]): string | undefined {
  for (const name of ['host', 'authorization']) {
    if (headerCount(rawHeaders, name) > 1) return `ambiguous request: more than one ${name} header`;
  }
  return undefined;
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
}

export type GuardVerdict = { ok: true } | { ok: false; status: 401 | 403; message: string };

/** Host and Origin: who may talk to this server at all (DNS rebinding, browser pages). */
export function guardOrigin(headers: IncomingHttpHeaders, o: GuardOptions): GuardVerdict {
  return guardRequest(headers, { ...o, token: undefined });
}

export function guardRequest(headers: IncomingHttpHeaders, o: GuardOptions): GuardVerdict {
  const host = headers.host;
  const hostname = host ? hostnameOf(host) : undefined;
  if (!hostname || !o.allowedHosts.has(hostname)) {
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
