// One redaction path: secrets registered from the raw environment and .env before anything is
// parsed, structured values redacted before serialisation so every log line stays valid JSON.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { createLogger, redact, redactValue, registerSecret } from '../../src/log.js';
import { BIN } from '../helpers/mcp.js';

const KEY = 'sk-cfg-LEAK-a1b2c3d4e5f6g7h8i9j0';

function configError(env: Record<string, string>, dotenv?: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'exai-sec-'));
  if (dotenv !== undefined) writeFileSync(join(dir, '.env'), dotenv);
  try {
    loadConfig({ env, dotenvDir: dir });
  } catch (error) {
    return (error as Error).message;
  }
  return '';
}

describe('config errors never print a secret', () => {
  it.each([
    ['a key pasted into EXAI_MAX_RETRIES', { EXAI_MAX_RETRIES: `${KEY}x1` }, undefined],
    [
      'a key pasted into EXAI_MAX_RETRIES next to the real key',
      { GLM_API_KEY: KEY, EXAI_MAX_RETRIES: KEY },
      undefined,
    ],
    [
      'GLM_BASE_URL and GLM_API_KEY swapped',
      { GLM_BASE_URL: `${KEY}y2`, GLM_API_KEY: 'https://api.z.ai/api/paas/v4' },
      undefined,
    ],
    ['a bad .env line holding the key', {}, `GLM_API_KEY=${KEY}\nEXAI_MAX_RETRIES=${KEY}\n`],
    ['a .env key with an unterminated quote', {}, `GLM_API_KEY="${KEY}\nEXAI_LOG_LEVEL=${KEY}\n`],
    ['a boolean holding the token', { EXAI_HTTP_TOKEN: KEY, KIMI_STREAM_ENABLED: KEY }, undefined],
  ])('%s', (_what, env, dotenv) => {
    const message = configError(env as Record<string, string>, dotenv);
    expect(message).toMatch(/invalid configuration: [A-Z_]+: expected/);
    expect(message).not.toContain(KEY.slice(0, 16));
  });

  it('still shows a harmless bad value, so the fix is obvious', () => {
    expect(configError({ EXAI_MAX_RETRIES: 'three' })).toContain('got "three"');
  });

  it('the CLI prints the config error on one line without the key (exit 2)', () => {
    const run = spawnSync(process.execPath, [BIN, 'models'], {
      env: { PATH: process.env.PATH ?? '', EXAI_MAX_RETRIES: KEY, GLM_API_KEY: KEY },
      cwd: mkdtempSync(join(tmpdir(), 'exai-sec-')),
      encoding: 'utf8',
    });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/^exai: invalid configuration: EXAI_MAX_RETRIES/);
    expect(run.stderr + run.stdout).not.toContain(KEY);
  });
});

describe('log redaction keeps lines valid JSON', () => {
  const TOKEN = 'tok-"quoted\\back-0123456789abcdef';
  registerSecret(TOKEN);

  it('a 401 line with a Bearer header is valid JSON with the credential gone', () => {
    const lines: string[] = [];
    const log = createLogger('debug', (l) => lines.push(l));
    log.warn('HTTP request rejected', {
      status: 401,
      authorization: 'Bearer abc.def-ghi_jkl',
      quoted: 'sent "Bearer xyz123" here',
      nested: { deeper: [`token ${TOKEN}`] },
    });
    const record = JSON.parse(lines[0] ?? '') as Record<string, unknown>;
    expect(record.authorization).toBe('Bearer [redacted]');
    expect(record.quoted).toBe('sent "Bearer [redacted]" here');
    expect(record.nested).toEqual({ deeper: ['token [redacted]'] });
    expect(lines[0]).not.toContain('abc.def');
    expect(lines[0]).not.toContain('quoted\\\\back');
  });

  it('keeps the character after a token', () => {
    expect(redact('(Bearer abc123), then.')).toBe('(Bearer [redacted]), then.');
    expect(redact('use Bearer abc123.')).toBe('use Bearer [redacted].');
    expect(redact(`[${TOKEN}]`)).toBe('[[redacted]]');
  });

  it('redacts structured values without copying what holds no secret', () => {
    const clean = { a: 'x', b: [1, 'y'], c: { d: null } };
    expect(redactValue(clean)).toBe(clean);
    const dirty = { a: 'x', b: [1, `k=${TOKEN}`], [TOKEN]: 1 };
    expect(redactValue(dirty)).toEqual({ a: 'x', b: [1, 'k=[redacted]'], '[redacted]': 1 });
    expect(dirty.b[1]).toBe(`k=${TOKEN}`);
  });
});
