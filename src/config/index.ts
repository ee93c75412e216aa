// Loads configuration from the environment (and a `.env` file; the real environment wins) and routes models.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { ConfigError, UsageError } from '../errors.js';
import { redact, registerSecret } from '../log.js';
import { endpointNames, endpointURL } from '../providers/endpoints.js';
import type { ProviderName } from '../types.js';
import { type Env, parseEnv as parseEnvVars } from './schema.js';

export interface ProviderConfig {
  name: ProviderName;
  apiKey: string | undefined;
  /** The named endpoint (`GLM_ENDPOINT` / `KIMI_ENDPOINT`); `baseURL` overrides its URL when set. */
  endpoint: string;
  baseURL: string;
  defaultModel: string;
  streamEnabled: boolean;
}

export interface Timeouts {
  firstTokenMs: number;
  idleMs: number;
  totalMs: number;
}

export interface Config {
  glm: ProviderConfig;
  kimi: ProviderConfig;
  timeouts: Timeouts;
  maxRetries: number;
  maxOutputBytes: number;
  logLevel: Env['EXAI_LOG_LEVEL'];
  progressIntervalMs: number;
  /** MCP: provider silence after which a heartbeat progress notification goes out. */
  heartbeatMs: number;
  httpToken: string | undefined;
  /** `exai serve --http`: how long SIGTERM lets in-flight calls finish before aborting them. */
  drainTimeoutMs: number;
  /** Extra `Host` names `exai serve --http` accepts (a reverse proxy's or a Service's name). */
  httpAllowedHosts: string[];
  /** MCP server: calls running upstream at once; more are refused at once (retryable). */
  maxConcurrentCalls: number;
  /** MCP `chat`: longest wait before the answer so far is returned with a resume id; 0 = no limit. */
  callBudgetMs: number;
  /** MCP store: `memory` or a redis:// URL. */
  store: string;
  /** MCP store: how long finished answers and idle conversations are kept. */
  storeTtlS: number;
}

export interface LoadConfigOptions {
  /** Defaults to `process.env`. */
  env?: Record<string, string | undefined>;
  /** Directory whose `.env` is read; defaults to `process.cwd()`. `false` skips the file. */
  dotenvDir?: string | false;
}

/** Variables whose values are secrets: registered for redaction before anything is parsed. */
export const SECRET_VARS = ['GLM_API_KEY', 'KIMI_API_KEY', 'EXAI_HTTP_TOKEN'] as const;

/**
 * Registers the secret variables' values as they appear in a raw `.env` text, line by line and
 * without a parser: a line the parser would reject or misread still has its key registered.
 */
function registerDotenvSecrets(text: string): void {
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*[=:]\s*(.*)$/.exec(line);
    if (!m?.[1] || !(SECRET_VARS as readonly string[]).includes(m[1])) continue;
    const raw = (m[2] ?? '').replace(/\s+#.*$/, '').trim();
    registerSecret(raw);
    registerSecret(raw.replace(/^(['"`])(.*)\1$/, '$2').replace(/^['"`]|['"`]$/g, ''));
  }
}

/** Reads `.env` in `dir`; a malformed file is a config error rather than a silent skip. */
export function readDotenv(dir: string): Record<string, string> {
  const file = join(dir, '.env');
  if (!existsSync(file)) return {};
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  registerDotenvSecrets(text);
  let values: Record<string, string>;
  try {
    values = parseEnv(text) as Record<string, string>;
  } catch (error) {
    throw new ConfigError(redact(`cannot read ${file}: ${(error as Error).message}`));
  }
  for (const name of SECRET_VARS) registerSecret(values[name]);
  return values;
}

/** Long, space-free, letter-and-digit strings: what an API key or a token looks like. */
function looksLikeCredential(value: string): boolean {
  const v = value.trim();
  // Keys are letters, digits and a few separators (GLM's hold a dot); URLs and paths have "/" or ":".
  return v.length >= 16 && /^[A-Za-z0-9._~+=-]+$/.test(v) && /[A-Za-z]/.test(v) && /\d/.test(v);
}

/**
 * An issue of the schema with the offending value hidden when it could be a key pasted into the
 * wrong variable (`EXAI_MAX_RETRIES=<key>`, base URL and key swapped): the message names the
 * variable and what was expected, which is all that is needed to fix it.
 */
function safeIssue(issue: string, env: Record<string, string | undefined>): string {
  const name = issue.slice(0, issue.indexOf(':'));
  const value = env[name];
  if (typeof value !== 'string' || value === '') return redact(issue);
  const secret = (SECRET_VARS as readonly string[]).includes(name) || looksLikeCredential(value);
  if (!secret) return redact(issue);
  const hidden = `a ${value.length}-character value (not shown: it may be a secret)`;
  return redact(issue.split(`"${value}"`).join(hidden));
}

export function loadConfig(options: LoadConfigOptions = {}): Config {
  const real = options.env ?? process.env;
  // Secrets first, from the raw sources: a parse error below must not be able to echo one.
  for (const name of SECRET_VARS) {
    const v = real[name];
    if (typeof v === 'string') registerSecret(v);
  }
  const dir = options.dotenvDir === undefined ? process.cwd() : options.dotenvDir;
  const merged: Record<string, string | undefined> = { ...(dir === false ? {} : readDotenv(dir)) };
  for (const [k, v] of Object.entries(real)) if (v !== undefined) merged[k] = v;

  const parsed = parseEnvVars(merged);
  if (!parsed.success) {
    const issues = parsed.issues.map((issue) => safeIssue(issue, merged));
    throw new ConfigError(`invalid configuration: ${issues.join('; ')}`);
  }
  const e = parsed.data;
  // A Redis password in EXAI_STORE is a secret too (the parser never echoes the URL).
  if (e.EXAI_STORE !== 'memory')
    registerSecret(decodeURIComponent(new URL(e.EXAI_STORE).password) || undefined);
  return {
    glm: {
      name: 'glm',
      apiKey: e.GLM_API_KEY,
      endpoint: e.GLM_ENDPOINT,
      baseURL: e.GLM_BASE_URL ?? baseURLOf('glm', e.GLM_ENDPOINT),
      defaultModel: e.GLM_DEFAULT_MODEL,
      streamEnabled: e.GLM_STREAM_ENABLED,
    },
    kimi: {
      name: 'kimi',
      apiKey: e.KIMI_API_KEY,
      endpoint: e.KIMI_ENDPOINT,
      baseURL: e.KIMI_BASE_URL ?? baseURLOf('kimi', e.KIMI_ENDPOINT),
      defaultModel: e.KIMI_DEFAULT_MODEL,
      streamEnabled: e.KIMI_STREAM_ENABLED,
    },
    timeouts: {
      firstTokenMs: e.EXAI_FIRST_TOKEN_TIMEOUT_MS,
      idleMs: e.EXAI_IDLE_TIMEOUT_MS,
      totalMs: e.EXAI_TOTAL_TIMEOUT_MS,
    },
    maxRetries: e.EXAI_MAX_RETRIES,
    maxOutputBytes: e.EXAI_MAX_OUTPUT_BYTES,
    logLevel: e.EXAI_LOG_LEVEL,
    progressIntervalMs: e.EXAI_PROGRESS_INTERVAL_MS,
    heartbeatMs: e.EXAI_HEARTBEAT_MS,
    httpToken: e.EXAI_HTTP_TOKEN,
    drainTimeoutMs: e.EXAI_DRAIN_TIMEOUT_MS,
    httpAllowedHosts: e.EXAI_HTTP_ALLOWED_HOSTS,
    maxConcurrentCalls: e.EXAI_MAX_CONCURRENT_CALLS,
    callBudgetMs: e.EXAI_CALL_BUDGET_MS,
    store: e.EXAI_STORE,
    storeTtlS: e.EXAI_STORE_TTL_S,
  };
}

/** The base URL of a named endpoint; a ConfigError naming the choices for an unknown name. */
export function baseURLOf(provider: ProviderName, endpoint: string): string {
  const url = endpointURL(provider, endpoint.trim().toLowerCase());
  if (url === undefined) {
    throw new ConfigError(
      `unknown ${provider} endpoint "${endpoint}": use one of ${endpointNames(provider).join(', ')}`,
    );
  }
  return url;
}

/** `glm-*` → GLM; `kimi-*` and `moonshot-*` → Kimi; anything else is a usage error. */
export function providerForModel(model: string): ProviderName {
  const m = model.trim().toLowerCase();
  if (m.startsWith('glm-')) return 'glm';
  if (m.startsWith('kimi-') || m.startsWith('moonshot-')) return 'kimi';
  throw new UsageError(
    `cannot tell the provider of model "${model}": GLM models start with "glm-", Kimi models with "kimi-" or "moonshot-"`,
  );
}

/** The environment variable that holds each provider's key. */
export const KEY_VAR: Record<ProviderName, string> = { glm: 'GLM_API_KEY', kimi: 'KIMI_API_KEY' };

/**
 * Which provider answers: the model's, else `provider`, else the one with a key (GLM first), else
 * GLM (whose missing key is then reported). A model of the other provider is a usage error.
 */
export function chooseProvider(config: Config, provider?: ProviderName, model?: string): ProviderName {
  if (model !== undefined) {
    const owner = providerForModel(model);
    if (provider !== undefined && provider !== owner) {
      throw new UsageError(`model "${model}" belongs to ${owner}, not ${provider}`);
    }
    return owner;
  }
  if (provider !== undefined) return provider;
  if (config.glm.apiKey) return 'glm';
  if (config.kimi.apiKey) return 'kimi';
  return 'glm';
}
