// The environment contract of DESIGN.md section 2: one parser per variable, with its default, and
// every malformed value reported by name. Plain functions rather than zod: each variable is a string
// read by a custom rule anyway, and zod would add about 14 MB of RSS to every process that imports
// the library (the MCP server still loads it, for its tool schemas).

import { DEFAULT_MODELS } from '../providers/catalog.js';
import { endpointNames, endpointURL } from '../providers/endpoints.js';
import type { ProviderName } from '../types.js';

/** A variable's parser: its value (undefined when unset) → the typed setting, or throws Invalid. */
type Parse<T> = (value: string | undefined) => T;

class Invalid extends Error {}

const TRUE = new Set(['true', '1', 'yes']);
const FALSE = new Set(['false', '0', 'no']);

const bool =
  (fallback: boolean): Parse<boolean> =>
  (value) => {
    if (value === undefined || value.trim() === '') return fallback;
    const v = value.trim().toLowerCase();
    if (TRUE.has(v)) return true;
    if (FALSE.has(v)) return false;
    throw new Invalid(`expected true/false/1/0/yes/no, got "${value}"`);
  };

const int =
  (fallback: number, min: number): Parse<number> =>
  (value) => {
    if (value === undefined || value.trim() === '') return fallback;
    const n = Number(value.trim());
    if (!Number.isInteger(n) || n < min) throw new Invalid(`expected an integer >= ${min}, got "${value}"`);
    return n;
  };

function url(): Parse<string | undefined>;
function url(fallback: string): Parse<string>;
function url(fallback?: string): Parse<string | undefined> {
  return (value) => {
    const v = value?.trim() || fallback;
    if (v === undefined) return undefined;
    let protocol: string;
    try {
      protocol = new URL(v).protocol;
    } catch {
      protocol = '';
    }
    if (protocol !== 'http:' && protocol !== 'https:') {
      throw new Invalid(`expected an http(s) URL, got "${value}"`);
    }
    return v.replace(/\/+$/, '');
  };
}

/** One of a provider's endpoint names (GLM_ENDPOINT, KIMI_ENDPOINT). */
const endpoint =
  (provider: ProviderName): Parse<string> =>
  (value) => {
    const v = (value?.trim() || 'global').toLowerCase();
    if (endpointURL(provider, v) !== undefined) return v;
    throw new Invalid(`expected one of ${endpointNames(provider).join(', ')}, got "${value}"`);
  };

function text(): Parse<string | undefined>;
function text(fallback: string): Parse<string>;
function text(fallback?: string): Parse<string | undefined> {
  return (v) => (v?.trim() ? v.trim() : fallback);
}

const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
type LogLevel = (typeof LOG_LEVELS)[number];

const logLevel: Parse<LogLevel> = (value) => {
  const v = (value?.trim() || 'info').toLowerCase();
  if ((LOG_LEVELS as readonly string[]).includes(v)) return v as LogLevel;
  throw new Invalid(`expected debug/info/warn/error/silent, got "${value}"`);
};

// `memory`, or a redis:// (rediss://) URL with host and optional /db.
const storeUrl: Parse<string> = (value) => {
  const v = value?.trim() || 'memory';
  if (v === 'memory') return v;
  let ok = false;
  try {
    const u = new URL(v);
    ok =
      (u.protocol === 'redis:' || u.protocol === 'rediss:') &&
      u.hostname !== '' &&
      /^(\/\d*)?$/.test(u.pathname);
  } catch {
    ok = false;
  }
  // The value may hold a Redis password: never echo it.
  if (!ok) throw new Invalid('expected "memory" or redis://host:port[/db]');
  return v;
};

const hostList: Parse<string[]> = (v) =>
  (v ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);

export const envSchema = {
  GLM_API_KEY: text(),
  GLM_ENDPOINT: endpoint('glm'),
  GLM_BASE_URL: url(),
  GLM_DEFAULT_MODEL: text(DEFAULT_MODELS.glm),
  GLM_STREAM_ENABLED: bool(true),
  KIMI_API_KEY: text(),
  KIMI_ENDPOINT: endpoint('kimi'),
  KIMI_BASE_URL: url(),
  KIMI_DEFAULT_MODEL: text(DEFAULT_MODELS.kimi),
  KIMI_STREAM_ENABLED: bool(true),
  EXAI_FIRST_TOKEN_TIMEOUT_MS: int(60_000, 1),
  EXAI_IDLE_TIMEOUT_MS: int(60_000, 1),
  EXAI_TOTAL_TIMEOUT_MS: int(600_000, 1),
  EXAI_MAX_RETRIES: int(2, 0),
  EXAI_MAX_OUTPUT_BYTES: int(10_485_760, 1),
  EXAI_LOG_LEVEL: logLevel,
  EXAI_PROGRESS_INTERVAL_MS: int(100, 0),
  EXAI_HEARTBEAT_MS: int(10_000, 1),
  EXAI_HTTP_TOKEN: text(),
  EXAI_DRAIN_TIMEOUT_MS: int(30_000, 0),
  EXAI_HTTP_ALLOWED_HOSTS: hostList,
  EXAI_MAX_CONCURRENT_CALLS: int(64, 1),
  EXAI_CALL_BUDGET_MS: int(50_000, 0),
  EXAI_STORE: storeUrl,
  EXAI_STORE_TTL_S: int(3600, 1),
};

export type Env = { [K in keyof typeof envSchema]: ReturnType<(typeof envSchema)[K]> };

export type EnvResult = { success: true; data: Env } | { success: false; issues: string[] };

/** Every variable parsed; the issues name each malformed one as `NAME: what was expected`. */
export function parseEnv(env: Record<string, string | undefined>): EnvResult {
  const data: Record<string, unknown> = {};
  const issues: string[] = [];
  for (const [name, parse] of Object.entries(envSchema)) {
    try {
      const value: unknown = env[name];
      // Environment values are strings; a program passing `env` may hand over something else.
      if (value !== undefined && typeof value !== 'string') {
        throw new Invalid(`expected a string, got ${value === null ? 'null' : typeof value}`);
      }
      data[name] = parse(value);
    } catch (error) {
      if (!(error instanceof Invalid)) throw error;
      issues.push(`${name}: ${error.message}`);
    }
  }
  return issues.length ? { success: false, issues } : { success: true, data: data as Env };
}
