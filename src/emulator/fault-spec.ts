// The fault language of `exai emulator --fault`: one FaultSpec per string, e.g. `drop:5`,
// `status:429,retry-after=1`, `stall:3000,after=4`, `refuse-stream:status,times=2`. Pure.
import { isObject } from '../json.js';
import { checkFault, type FaultSpec, type FaultType } from './faults.js';

/** The type's main value after `:` and the FaultSpec field it fills. */
const MAIN: Partial<Record<FaultType, string>> = {
  drop: 'afterChunks',
  malformed: 'afterChunks',
  'error-frame': 'afterChunks',
  truncate: 'afterChunks',
  status: 'status',
  stall: 'ms',
  'refuse-stream': 'mode',
  finish: 'reason',
  'break-tool-call': 'afterToolDeltas',
};

/** Parameter names (kebab-case as typed, or the FaultSpec field itself) → FaultSpec field. */
const FIELDS: Record<string, string> = {
  after: 'afterChunks',
  'after-chunks': 'afterChunks',
  'retry-after': 'retryAfter',
  ms: 'ms',
  before: 'beforeFirstMs',
  'before-first-ms': 'beforeFirstMs',
  mode: 'mode',
  words: 'words',
  pace: 'paceMs',
  'pace-ms': 'paceMs',
  'tokens-per-chunk': 'tokensPerChunk',
  'only-stream': 'onlyStream',
  body: 'body',
  reason: 'reason',
  code: 'code',
  message: 'message',
  'request-id': 'requestId',
  'after-tool-deltas': 'afterToolDeltas',
  'same-spot': 'sameSpot',
  'leading-newline': 'leadingNewline',
  'no-text': 'noText',
};
const STRINGS = new Set(['retryAfter', 'mode', 'reason', 'code', 'message', 'requestId']);
const BOOLEANS = new Set(['onlyStream', 'sameSpot', 'leadingNewline', 'noText']);

export interface ParsedFault {
  spec: FaultSpec;
  /** `times=N`: how many successive requests get it; undefined when not given. */
  times: number | undefined;
}

export class FaultSpecError extends TypeError {
  override name = 'FaultSpecError';
}

const fail = (text: string, why: string): never => {
  throw new FaultSpecError(`bad fault "${text}": ${why}`);
};

function value(text: string, field: string, raw: string): unknown {
  if (BOOLEANS.has(field)) {
    if (raw === '' || raw === 'true') return true;
    if (raw === 'false') return false;
    return fail(text, `${field} is true or false`);
  }
  if (field === 'body') {
    try {
      const body: unknown = JSON.parse(raw);
      if (isObject(body)) return body;
    } catch {
      // Reported below with the rule.
    }
    return fail(text, 'body= takes a JSON object (and must come last)');
  }
  if (STRINGS.has(field)) return raw;
  const n = Number(raw);
  if (raw === '' || !Number.isInteger(n)) return fail(text, `${field} must be an integer, got "${raw}"`);
  return n;
}

/** Parses one fault; throws FaultSpecError with the rule that was broken. */
export function parseFault(input: string): ParsedFault {
  const text = input.trim();
  // `body=` takes the rest of the string, so its JSON may contain commas.
  const at = text.search(/(^|,)body=/);
  const head = at < 0 ? text : text.slice(0, at);
  const body = at < 0 ? undefined : text.slice(text.indexOf('body=', at) + 5);
  const [first = '', ...params] = head.split(',').filter((p, i) => i === 0 || p !== '');
  const colon = first.indexOf(':');
  const type = (colon < 0 ? first : first.slice(0, colon)).trim() as FaultType;
  const out: Record<string, unknown> = { type };
  let times: number | undefined;
  if (colon >= 0) {
    const field = MAIN[type];
    if (!field) fail(text, `${type} takes no value after ":"`);
    else out[field] = value(text, field, first.slice(colon + 1).trim());
  }
  for (const param of params) {
    const eq = param.indexOf('=');
    const key = (eq < 0 ? param : param.slice(0, eq)).trim();
    const raw = eq < 0 ? '' : param.slice(eq + 1).trim();
    if (key === 'times') {
      const n = Number(raw);
      if (!Number.isInteger(n) || n < 1) fail(text, 'times must be an integer >= 1');
      times = n;
      continue;
    }
    const field = FIELDS[key] ?? (Object.values(FIELDS).includes(key) ? key : undefined);
    if (!field) fail(text, `unknown parameter "${key}"`);
    else out[field] = value(text, field, raw);
  }
  if (body !== undefined) out.body = value(text, 'body', body);
  // checkFault below is the single source of truth for what a FaultSpec may hold.
  const spec = out as unknown as FaultSpec;
  try {
    checkFault(spec);
  } catch (error) {
    fail(text, (error as Error).message.replace(/^emulator: /, ''));
  }
  return { spec, times };
}

/**
 * `--fault` values in order: each applies to the next chat request (`times=N`: to the next N).
 * The last one, unless it says `times=`, stays in force for every request after that: so
 * `--fault drop:5` breaks every stream, `--fault status:503,times=2` fails the first two requests
 * and `--fault status:503 --fault none` only the first.
 */
export function faultScript(inputs: readonly string[]): { script: FaultSpec[]; always: FaultSpec | null } {
  const script: FaultSpec[] = [];
  const parsed = inputs.map(parseFault);
  const final = parsed.at(-1);
  const always = final && final.times === undefined ? parsed.pop()?.spec : undefined;
  for (const { spec, times } of parsed) for (let n = 0; n < (times ?? 1); n++) script.push(spec);
  return { script, always: always && always.type !== 'none' ? always : null };
}
