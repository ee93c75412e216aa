// Configuration from the environment and `.env` (DESIGN.md section 2), and model → provider routing.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, providerForModel } from '../src/config/index.js';
import { ConfigError, UsageError } from '../src/errors.js';

/** Config from exactly these variables: no `.env` file, no process environment. */
const load = (env: Record<string, string | undefined>) => loadConfig({ env, dotenvDir: false });

const tempDirs: string[] = [];
/** A fresh directory holding a `.env` with `contents`. */
function dotenvDir(contents: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'exai-config-'));
  tempDirs.push(dir);
  writeFileSync(join(dir, '.env'), contents);
  return dir;
}
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig defaults (DESIGN.md section 2)', () => {
  it('uses the documented default for every variable when the environment is empty', () => {
    expect(load({})).toEqual({
      glm: {
        name: 'glm',
        apiKey: undefined,
        endpoint: 'global',
        baseURL: 'https://api.z.ai/api/paas/v4',
        defaultModel: 'glm-5.3',
        streamEnabled: true,
      },
      kimi: {
        name: 'kimi',
        apiKey: undefined,
        endpoint: 'global',
        baseURL: 'https://api.moonshot.ai/v1',
        defaultModel: 'kimi-k2.6',
        streamEnabled: true,
      },
      timeouts: { firstTokenMs: 60_000, idleMs: 60_000, totalMs: 600_000 },
      maxRetries: 2,
      maxOutputBytes: 10_485_760,
      logLevel: 'info',
      progressIntervalMs: 100,
      heartbeatMs: 10_000,
      httpToken: undefined,
      drainTimeoutMs: 30_000,
      httpAllowedHosts: [],
      maxConcurrentCalls: 64,
      callBudgetMs: 50_000,
      store: 'memory',
      storeTtlS: 3600,
    });
  });

  it('treats empty and blank values as unset', () => {
    const blank = Object.fromEntries(
      [
        'GLM_API_KEY',
        'GLM_ENDPOINT',
        'GLM_BASE_URL',
        'GLM_DEFAULT_MODEL',
        'GLM_STREAM_ENABLED',
        'KIMI_BASE_URL',
        'EXAI_MAX_RETRIES',
        'EXAI_LOG_LEVEL',
        'EXAI_HTTP_TOKEN',
      ].map((k, i) => [k, i % 2 ? '' : '   ']),
    );
    expect(load(blank)).toEqual(load({}));
  });

  it('ignores variables whose value is undefined', () => {
    expect(load({ GLM_API_KEY: undefined, EXAI_MAX_RETRIES: undefined })).toEqual(load({}));
  });
});

describe('loadConfig values', () => {
  it('reads every variable of the contract', () => {
    const config = load({
      GLM_API_KEY: 'glm-key-1234',
      GLM_ENDPOINT: 'coding',
      GLM_BASE_URL: 'http://localhost:8080/glm',
      GLM_DEFAULT_MODEL: 'glm-4.5',
      GLM_STREAM_ENABLED: 'false',
      KIMI_API_KEY: 'kimi-key-1234',
      KIMI_ENDPOINT: 'China',
      KIMI_BASE_URL: 'https://api.moonshot.cn/v1',
      KIMI_DEFAULT_MODEL: 'kimi-k2-thinking',
      KIMI_STREAM_ENABLED: 'no',
      EXAI_FIRST_TOKEN_TIMEOUT_MS: '1000',
      EXAI_IDLE_TIMEOUT_MS: '2000',
      EXAI_TOTAL_TIMEOUT_MS: '3000',
      EXAI_MAX_RETRIES: '0',
      EXAI_MAX_OUTPUT_BYTES: '1',
      EXAI_LOG_LEVEL: 'DEBUG',
      EXAI_PROGRESS_INTERVAL_MS: '0',
      EXAI_HEARTBEAT_MS: '500',
      EXAI_HTTP_TOKEN: 'http-token-1234',
      EXAI_DRAIN_TIMEOUT_MS: '0',
      EXAI_HTTP_ALLOWED_HOSTS: ' exai.internal, PROXY ,',
      EXAI_MAX_CONCURRENT_CALLS: '4',
      EXAI_CALL_BUDGET_MS: '0',
      EXAI_STORE: 'redis://127.0.0.1:6380/2',
      EXAI_STORE_TTL_S: '60',
    });
    expect(config).toEqual({
      glm: {
        name: 'glm',
        apiKey: 'glm-key-1234',
        endpoint: 'coding',
        baseURL: 'http://localhost:8080/glm',
        defaultModel: 'glm-4.5',
        streamEnabled: false,
      },
      kimi: {
        name: 'kimi',
        apiKey: 'kimi-key-1234',
        endpoint: 'china',
        baseURL: 'https://api.moonshot.cn/v1',
        defaultModel: 'kimi-k2-thinking',
        streamEnabled: false,
      },
      timeouts: { firstTokenMs: 1000, idleMs: 2000, totalMs: 3000 },
      maxRetries: 0,
      maxOutputBytes: 1,
      logLevel: 'debug',
      progressIntervalMs: 0,
      heartbeatMs: 500,
      httpToken: 'http-token-1234',
      drainTimeoutMs: 0,
      httpAllowedHosts: ['exai.internal', 'proxy'],
      maxConcurrentCalls: 4,
      callBudgetMs: 0,
      store: 'redis://127.0.0.1:6380/2',
      storeTtlS: 60,
    });
  });

  it('names a variable handed over as something other than a string (programmatic env)', () => {
    const env = { EXAI_MAX_RETRIES: 3, GLM_STREAM_ENABLED: false } as unknown as Record<string, string>;
    expect(() => load(env)).toThrow(
      /invalid configuration: GLM_STREAM_ENABLED: expected a string, got boolean; EXAI_MAX_RETRIES: expected a string, got number/,
    );
  });

  it('trims whitespace around keys and models', () => {
    const config = load({ GLM_API_KEY: '  sk-abc  \n', KIMI_DEFAULT_MODEL: ' kimi-k2 ' });
    expect(config.glm.apiKey).toBe('sk-abc');
    expect(config.kimi.defaultModel).toBe('kimi-k2');
  });

  it.each([
    ['true', true],
    ['TRUE', true],
    ['True', true],
    ['1', true],
    ['yes', true],
    ['YES', true],
    ['Yes', true],
    [' yes ', true],
    ['false', false],
    ['FALSE', false],
    ['False', false],
    ['0', false],
    ['no', false],
    ['NO', false],
    ['No', false],
    ['', true],
  ])('reads the boolean %j as %s', (value, expected) => {
    const config = load({ GLM_STREAM_ENABLED: value, KIMI_STREAM_ENABLED: value });
    expect([config.glm.streamEnabled, config.kimi.streamEnabled]).toEqual([expected, expected]);
  });

  it.each([
    ['https://api.z.ai/api/paas/v4/', 'https://api.z.ai/api/paas/v4'],
    ['https://api.z.ai/api/paas/v4///', 'https://api.z.ai/api/paas/v4'],
    ['http://127.0.0.1:4000/', 'http://127.0.0.1:4000'],
    ['  https://example.test/v1/  ', 'https://example.test/v1'],
    ['https://example.test/v1', 'https://example.test/v1'],
  ])('strips the trailing slash of base URL %j', (value, expected) => {
    const config = load({ GLM_BASE_URL: value, KIMI_BASE_URL: value });
    expect([config.glm.baseURL, config.kimi.baseURL]).toEqual([expected, expected]);
  });

  it.each(['debug', 'info', 'warn', 'error', 'silent', 'Warn'])('accepts log level %j', (level) => {
    expect(load({ EXAI_LOG_LEVEL: level }).logLevel).toBe(level.toLowerCase());
  });
});

describe('loadConfig errors', () => {
  it.each([
    ['GLM_STREAM_ENABLED', 'maybe'],
    ['KIMI_STREAM_ENABLED', 'on'],
    ['GLM_STREAM_ENABLED', '2'],
    ['KIMI_STREAM_ENABLED', 'truee'],
    ['EXAI_MAX_RETRIES', '-1'],
    ['EXAI_MAX_RETRIES', '1.5'],
    ['EXAI_MAX_RETRIES', 'two'],
    ['EXAI_FIRST_TOKEN_TIMEOUT_MS', '0'],
    ['EXAI_IDLE_TIMEOUT_MS', '60s'],
    ['EXAI_TOTAL_TIMEOUT_MS', 'NaN'],
    ['EXAI_MAX_OUTPUT_BYTES', '10MB'],
    ['EXAI_PROGRESS_INTERVAL_MS', '-100'],
    ['GLM_BASE_URL', 'not a url'],
    ['GLM_BASE_URL', 'api.z.ai/api/paas/v4'],
    ['KIMI_BASE_URL', 'ftp://api.moonshot.ai/v1'],
    ['KIMI_BASE_URL', 'file:///etc/passwd'],
    ['EXAI_LOG_LEVEL', 'verbose'],
  ])('rejects %s=%j with a ConfigError naming the variable', (name, value) => {
    const error = configError(() => load({ [name]: value }));
    expect(error.code).toBe('config');
    expect(error.message).toContain(name);
    expect(error.message).toContain(value);
  });

  it('names every malformed variable in one error', () => {
    const error = configError(() => load({ GLM_STREAM_ENABLED: 'maybe', EXAI_MAX_RETRIES: 'x' }));
    expect(error.message).toContain('GLM_STREAM_ENABLED');
    expect(error.message).toContain('EXAI_MAX_RETRIES');
  });
});

describe('loadConfig with a .env file', () => {
  it('reads variables from the .env in dotenvDir', () => {
    const dir = dotenvDir(
      [
        '# comment line',
        'GLM_API_KEY=from-dotenv-key',
        'EXAI_MAX_RETRIES=5',
        'KIMI_BASE_URL="https://dotenv.test/v1/"',
        "GLM_DEFAULT_MODEL='glm-4.5'",
        '',
      ].join('\n'),
    );
    const config = loadConfig({ env: {}, dotenvDir: dir });
    expect(config.glm.apiKey).toBe('from-dotenv-key');
    expect(config.maxRetries).toBe(5);
    expect(config.kimi.baseURL).toBe('https://dotenv.test/v1');
    expect(config.glm.defaultModel).toBe('glm-4.5');
  });

  it('lets the real environment win over the .env file', () => {
    const dir = dotenvDir('GLM_API_KEY=from-dotenv-key\nEXAI_MAX_RETRIES=5\nEXAI_LOG_LEVEL=debug\n');
    const config = loadConfig({
      env: { GLM_API_KEY: 'from-real-env', EXAI_MAX_RETRIES: '1' },
      dotenvDir: dir,
    });
    expect(config.glm.apiKey).toBe('from-real-env');
    expect(config.maxRetries).toBe(1);
    expect(config.logLevel).toBe('debug');
  });

  it('reports a malformed value from the .env file as a ConfigError naming the variable', () => {
    const dir = dotenvDir('GLM_STREAM_ENABLED=perhaps\n');
    const error = configError(() => loadConfig({ env: {}, dotenvDir: dir }));
    expect(error.message).toContain('GLM_STREAM_ENABLED');
  });

  it('uses the defaults when dotenvDir has no .env file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'exai-config-empty-'));
    tempDirs.push(dir);
    expect(loadConfig({ env: {}, dotenvDir: dir })).toEqual(load({}));
  });

  it('skips the .env file when dotenvDir is false', () => {
    const dir = dotenvDir('GLM_API_KEY=from-dotenv-key\n');
    expect(loadConfig({ env: {}, dotenvDir: dir }).glm.apiKey).toBe('from-dotenv-key');
    expect(loadConfig({ env: {}, dotenvDir: false }).glm.apiKey).toBeUndefined();
  });
});

describe('providerForModel', () => {
  it.each([
    ['glm-4.6', 'glm'],
    ['glm-4.5-air', 'glm'],
    ['GLM-4.7-Flash', 'glm'],
    ['  glm-4.5  ', 'glm'],
    ['kimi-k2-0905-preview', 'kimi'],
    ['kimi-k2-thinking', 'kimi'],
    ['Kimi-K2-Turbo-Preview', 'kimi'],
    ['moonshot-v1-8k', 'kimi'],
    ['MOONSHOT-V1-128K', 'kimi'],
  ])('routes %j to %s', (model, provider) => {
    expect(providerForModel(model)).toBe(provider);
  });

  it.each(['gpt-4o', 'glm', 'kimi', 'moonshot', 'claude-glm-4', '', 'xglm-4.6', 'glm_4.6'])(
    'rejects %j with a UsageError that names the model',
    (model) => {
      let caught: unknown;
      try {
        providerForModel(model);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(UsageError);
      expect((caught as UsageError).code).toBe('usage');
      expect((caught as UsageError).message).toContain(`"${model}"`);
    },
  );
});

describe('EXAI_STORE', () => {
  it.each(['memory', 'redis://localhost:6379', 'redis://10.0.0.5:6379/3', 'rediss://cache.internal:6380'])(
    'accepts %s',
    (value) => {
      expect(load({ EXAI_STORE: value }).store).toBe(value);
    },
  );

  it.each(['postgres://db', 'redis://', 'redis://host:6379/x', 'redis'])(
    'refuses %s with a clear message',
    (value) => {
      expect(configError(() => load({ EXAI_STORE: value })).message).toMatch(
        /EXAI_STORE: expected "memory" or redis:\/\/host:port\[\/db\]/,
      );
    },
  );

  it('never echoes a password from a malformed value', () => {
    const message = configError(() => load({ EXAI_STORE: 'redis://:s3cret-pass@host:6379/x' })).message;
    expect(message).not.toContain('s3cret-pass');
  });
});
