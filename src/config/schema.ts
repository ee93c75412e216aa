// The environment contract of DESIGN.md section 2 as one zod schema: defaults, parsing, clear errors.
import { z } from 'zod';

const TRUE = new Set(['true', '1', 'yes']);
const FALSE = new Set(['false', '0', 'no']);

const bool = (fallback: boolean) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value.trim() === '') return fallback;
      const v = value.trim().toLowerCase();
      if (TRUE.has(v)) return true;
      if (FALSE.has(v)) return false;
      ctx.addIssue({ code: 'custom', message: `expected true/false/1/0/yes/no, got "${value}"` });
      return z.NEVER;
    });

const int = (fallback: number, min: number) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      if (value === undefined || value.trim() === '') return fallback;
      const n = Number(value.trim());
      if (!Number.isInteger(n) || n < min) {
        ctx.addIssue({ code: 'custom', message: `expected an integer >= ${min}, got "${value}"` });
        return z.NEVER;
      }
      return n;
    });

const url = (fallback: string) =>
  z
    .string()
    .optional()
    .transform((value, ctx) => {
      const v = value?.trim() || fallback;
      try {
        const u = new URL(v);
        if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error('protocol');
      } catch {
        ctx.addIssue({ code: 'custom', message: `expected an http(s) URL, got "${value}"` });
        return z.NEVER;
      }
      return v.replace(/\/+$/, '');
    });

const text = (fallback?: string) =>
  z
    .string()
    .optional()
    .transform((v) => (v?.trim() ? v.trim() : fallback));

export const envSchema = z.object({
  GLM_API_KEY: text(),
  GLM_BASE_URL: url('https://api.z.ai/api/paas/v4'),
  GLM_DEFAULT_MODEL: text('glm-4.6'),
  GLM_STREAM_ENABLED: bool(true),
  KIMI_API_KEY: text(),
  KIMI_BASE_URL: url('https://api.moonshot.ai/v1'),
  KIMI_DEFAULT_MODEL: text('kimi-k2-0905-preview'),
  KIMI_STREAM_ENABLED: bool(true),
  EXAI_FIRST_TOKEN_TIMEOUT_MS: int(60_000, 1),
  EXAI_IDLE_TIMEOUT_MS: int(60_000, 1),
  EXAI_TOTAL_TIMEOUT_MS: int(600_000, 1),
  EXAI_MAX_RETRIES: int(2, 0),
  EXAI_MAX_OUTPUT_BYTES: int(10_485_760, 1),
  EXAI_LOG_LEVEL: z
    .string()
    .optional()
    .transform((value, ctx) => {
      const v = (value?.trim() || 'info').toLowerCase();
      if (['debug', 'info', 'warn', 'error', 'silent'].includes(v)) {
        return v as 'debug' | 'info' | 'warn' | 'error' | 'silent';
      }
      ctx.addIssue({ code: 'custom', message: `expected debug/info/warn/error/silent, got "${value}"` });
      return z.NEVER;
    }),
  EXAI_PROGRESS_INTERVAL_MS: int(100, 0),
  EXAI_HEARTBEAT_MS: int(10_000, 1),
  EXAI_HTTP_TOKEN: text(),
  EXAI_DRAIN_TIMEOUT_MS: int(30_000, 0),
  EXAI_HTTP_ALLOWED_HOSTS: z
    .string()
    .optional()
    .transform((v) =>
      (v ?? '')
        .split(',')
        .map((h) => h.trim().toLowerCase())
        .filter(Boolean),
    ),
});

export type EnvInput = z.input<typeof envSchema>;
export type Env = z.output<typeof envSchema>;
