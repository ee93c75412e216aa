// Structured, levelled logging to stderr with secrets redacted; never writes to stdout.
// `redact` / `redactValue` are the one redaction path every output surface uses (logs, MCP results
// and notifications, errors, config errors, CLI lines).

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

const secrets = new Set<string>();

export const REDACTED = '[redacted]';

/** Registers a value (an API key, a bearer token) that must never appear in any output. */
export function registerSecret(value: string | undefined): void {
  if (typeof value !== 'string') return;
  for (const v of [value, value.trim()]) if (v.length >= 4) secrets.add(v);
}

// RFC 6750 b64token characters; a final "." is punctuation after the token, not part of it.
// Neither a backslash nor a quote is a token character, so JSON escaping is never eaten.
const BEARER = /(Bearer\s+)[A-Za-z0-9\-._~+/]*[A-Za-z0-9\-_~+/]=*/gi;

/** Replaces every registered secret and anything that looks like a bearer credential. */
export function redact(text: string): string {
  let out = text;
  // `includes` first: a 10 MB answer without a secret is not copied.
  for (const s of secrets) if (out.includes(s)) out = out.split(s).join(REDACTED);
  if (!/bearer/i.test(out)) return out;
  return out.replace(BEARER, (_m, prefix: string) => `${prefix}${REDACTED}`);
}

const MAX_DEPTH = 64;

/**
 * A copy of `value` with every string redacted (keys included); unchanged parts are shared, and a
 * value with nothing to redact is returned as it is. Redacting before serialisation keeps JSON
 * output valid whatever the secret's characters.
 */
export function redactValue<T>(value: T, depth = 0): T {
  if (typeof value === 'string') return redact(value) as T;
  if (typeof value !== 'object' || value === null || depth > MAX_DEPTH) return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    value.forEach((item, i) => {
      const r = redactValue(item as unknown, depth + 1);
      if (r !== item) {
        out ??= value.slice();
        out[i] = r;
      }
    });
    return (out ?? value) as T;
  }
  if (value instanceof Error) {
    return { name: value.name, message: redact(value.message) } as T;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  let out: Record<string, unknown> | undefined;
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const rk = redact(k);
    const rv = redactValue(v, depth + 1);
    if (rk !== k || rv !== v) {
      out ??= { ...(value as Record<string, unknown>) };
      if (rk !== k) delete out[k];
      out[rk] = rv;
    }
  }
  return (out ?? value) as T;
}

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

export function createLogger(level: LogLevel, write: (line: string) => void = writeStderr): Logger {
  const at = RANK[level];
  const emit = (lvl: Exclude<LogLevel, 'silent'>, msg: string, fields?: Record<string, unknown>) => {
    if (RANK[lvl] < at) return;
    const record = redactValue({ time: new Date().toISOString(), level: lvl, msg, ...fields });
    write(`${JSON.stringify(record)}\n`);
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
  };
}

function writeStderr(line: string): void {
  process.stderr.write(line);
}
