// Log lines for the CLI: short human lines on a terminal, JSON lines when stderr is not one (or
// EXAI_LOG_FORMAT=json). Either way they clear the spinner first instead of gluing onto its frame.
import { readDotenv } from '../config/index.js';
import { ConfigError } from '../errors.js';
import { createLogger, type Logger, type LogLevel } from '../log.js';
import { oneLine, type Screen } from './terminal.js';

export type LogFormat = 'human' | 'json';

/** EXAI_LOG_FORMAT (environment, then `.env`), else human on a terminal and JSON otherwise. */
export function logFormat(stderr: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): LogFormat {
  const raw = env.EXAI_LOG_FORMAT ?? readDotenv(process.cwd()).EXAI_LOG_FORMAT;
  const value = raw?.trim().toLowerCase();
  if (value === 'json' || value === 'human') return value;
  if (value !== undefined && value !== '') {
    throw new ConfigError(`invalid configuration: EXAI_LOG_FORMAT: expected json or human, got "${raw}"`);
  }
  return stderr.isTTY ? 'human' : 'json';
}

const SKIP = new Set(['time', 'level', 'msg']);
const WHY = ['reason', 'error'];

/** `warning: retrying (provider glm, retry 1, waitMs 286): glm connection error: …` */
export function humanLine(record: Record<string, unknown>, withDetails = true): string {
  const level = String(record.level ?? 'info');
  const details: string[] = [];
  let why = '';
  for (const [key, value] of Object.entries(record)) {
    if (SKIP.has(key) || value === undefined) continue;
    const text = typeof value === 'string' ? value : JSON.stringify(value);
    if (WHY.includes(key) && !why) why = text;
    else if (withDetails) details.push(`${key} ${text}`);
  }
  const prefix = level === 'warn' ? 'warning: ' : level === 'error' ? 'error: ' : '';
  const head = `${prefix}${String(record.msg ?? '')}${details.length ? ` (${details.join(', ')})` : ''}`;
  return why ? `${head}: ${why}` : head;
}

/**
 * A logger that writes through `screen`. In human format a warning that arrives while the spinner
 * waits for the first token becomes the spinner's status (a retry, a fallback): it matters only
 * until the answer or the error line arrives, which then say what happened.
 */
export function cliLogger(level: LogLevel, format: LogFormat, screen: Screen): Logger {
  return createLogger(level, (line) => {
    if (format === 'json') {
      screen.line(line);
      return;
    }
    // The line is already redacted: reading the record back from it keeps the formatter behind
    // the same redaction as the JSON output.
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(line) as Record<string, unknown>;
    } catch {
      screen.line(line);
      return;
    }
    if (record.level === 'warn' && screen.spinning)
      screen.status(humanLine({ ...record, level: 'info' }, false));
    else screen.line(screen.dim(`exai: ${oneLine(humanLine(record), 400)}`));
  });
}
