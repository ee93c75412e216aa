// `exai emulator` for people testing their own clients: the --fault language, --reasoning, --tools
// and --echo-messages, seen by a plain HTTP client (fetch), not by exai's own.
import { type ChildProcess, spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { faultScript, parseFault } from '../src/emulator/fault-spec.js';
import { type Emulator, startEmulator } from '../src/emulator/index.js';
import { BIN, CWD, runExai } from './helpers/cli.js';
import { testClient, user } from './helpers/setup.js';

describe('the --fault language', () => {
  it.each([
    ['drop:5', { type: 'drop', afterChunks: 5 }],
    ['status:429,retry-after=1', { type: 'status', status: 429, retryAfter: '1' }],
    ['status:503,times=2', { type: 'status', status: 503 }],
    ['stall:3000,after=4', { type: 'stall', ms: 3000, afterChunks: 4 }],
    ['stall,before=500', { type: 'stall', beforeFirstMs: 500 }],
    ['malformed:3', { type: 'malformed', afterChunks: 3 }],
    ['error-frame:2,only-stream', { type: 'error-frame', afterChunks: 2, onlyStream: true }],
    ['truncate:1,pace-ms=10,words=5', { type: 'truncate', afterChunks: 1, paceMs: 10, words: 5 }],
    ['no-done', { type: 'no-done' }],
    ['refuse-stream:status', { type: 'refuse-stream', mode: 'status' }],
    ['hang', { type: 'hang' }],
    ['none', { type: 'none' }],
    [
      'status:402,body={"error":{"code":"1113","message":"Insufficient balance, please top up"}}',
      {
        type: 'status',
        status: 402,
        body: { error: { code: '1113', message: 'Insufficient balance, please top up' } },
      },
    ],
  ])('%s', (text, spec) => {
    expect(parseFault(text).spec).toEqual(spec);
  });

  it.each([
    ['explode', /unknown fault type "explode"/],
    ['drop', /drop needs afterChunks/],
    ['drop:x', /afterChunks must be an integer, got "x"/],
    ['status:200', /HTTP status 400-599/],
    ['drop:5,colour=red', /unknown parameter "colour"/],
    ['no-done:3', /no-done takes no value/],
    ['refuse-stream:maybe', /mode must be 'json', 'status' or 'unsupported'/],
    ['drop:5,times=0', /times must be an integer >= 1/],
    ['status:400,body=[1]', /body= takes a JSON object/],
  ])('%s is refused with the rule it breaks', (text, message) => {
    expect(() => parseFault(text)).toThrow(message);
  });

  it('scripts faults in order; the last one without times= stays in force', () => {
    expect(faultScript(['drop:5'])).toEqual({ script: [], always: { type: 'drop', afterChunks: 5 } });
    expect(faultScript(['status:503,times=2'])).toEqual({
      script: [
        { type: 'status', status: 503 },
        { type: 'status', status: 503 },
      ],
      always: null,
    });
    expect(faultScript(['status:503', 'none'])).toEqual({
      script: [{ type: 'status', status: 503 }],
      always: null,
    });
  });
});

let child: ChildProcess | undefined;
afterEach(() => {
  child?.kill('SIGINT');
  child = undefined;
});

/** Starts `exai emulator --port 0 …` and resolves with its GLM and Kimi base URLs. */
async function emulatorCommand(args: string[]): Promise<{ glm: string; kimi: string; banner: string }> {
  child = spawn(process.execPath, [BIN, 'emulator', '--port', '0', '--pace-ms', '0', ...args], {
    cwd: CWD,
    env: { PATH: process.env.PATH ?? '' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let banner = '';
  const stdout = child.stdout;
  await new Promise<void>((resolve, reject) => {
    stdout?.setEncoding('utf8').on('data', (s: string) => {
      banner += s;
      if (banner.includes('Ctrl-C stops it')) resolve();
    });
    child?.once('exit', (code) => reject(new Error(`exai emulator exited with ${code}: ${banner}`)));
  });
  const url = (name: string) => new RegExp(`${name}=(\\S+)`).exec(banner)?.[1] ?? '';
  return { glm: url('GLM_BASE_URL'), kimi: url('KIMI_BASE_URL'), banner };
}

interface Seen {
  status: number;
  headers: Headers;
  /** Parsed `data:` events before the stream ended or broke. */
  events: Array<Record<string, unknown>>;
  done: boolean;
  broke: boolean;
}

/** A plain streaming client: POST, then count SSE data events until [DONE] or the connection drops. */
async function ask(base: string, model: string, extra: Record<string, unknown> = {}): Promise<Seen> {
  const res = await fetch(`${base}/chat/completions`, {
    method: 'POST',
    headers: { authorization: 'Bearer any-key', 'content-type': 'application/json' },
    body: JSON.stringify({ model, messages: [{ role: 'user', content: 'hello' }], stream: true, ...extra }),
  });
  const seen: Seen = { status: res.status, headers: res.headers, events: [], done: false, broke: false };
  if (!res.ok || !res.body) return seen;
  let text = '';
  try {
    for await (const part of res.body) text += Buffer.from(part).toString('utf8');
  } catch {
    seen.broke = true;
  }
  for (const block of text.split('\n\n')) {
    const data = block.startsWith('data: ') ? block.slice(6) : undefined;
    if (data === '[DONE]') seen.done = true;
    else if (data) seen.events.push(JSON.parse(data));
  }
  return seen;
}

describe('exai emulator', () => {
  it('--fault drop:5 drops every stream after 5 chunks, for any client and either provider', async () => {
    const { glm, kimi, banner } = await emulatorCommand(['--fault', 'drop:5']);
    expect(banner).toMatch(/faults: drop:5 \(the last one for every later request\)/);
    for (const [base, model] of [
      [glm, 'glm-4.5-flash'],
      [glm, 'glm-4.5-flash'],
      [kimi, 'kimi-k2-0905-preview'],
    ] as const) {
      const seen = await ask(base, model);
      expect(seen.status).toBe(200);
      expect(seen.events).toHaveLength(5);
      expect(seen.broke).toBe(true);
      expect(seen.done).toBe(false);
    }
  }, 30_000);

  it('--fault status:429,retry-after=1,times=1 refuses the first request only', async () => {
    const { glm } = await emulatorCommand(['--fault', 'status:429,retry-after=1,times=1']);
    const first = await ask(glm, 'glm-4.5-flash');
    expect(first.status).toBe(429);
    expect(first.headers.get('retry-after')).toBe('1');
    const second = await ask(glm, 'glm-4.5-flash');
    expect(second.status).toBe(200);
    expect(second.done).toBe(true);
  }, 30_000);

  it('--reasoning makes a non-thinking model reason, --tools answers with a tool call', async () => {
    const { glm, kimi } = await emulatorCommand(['--reasoning', '--tools']);
    const delta = (e: Record<string, unknown>) =>
      ((e.choices as Array<{ delta?: Record<string, unknown>; finish_reason?: string }>)[0] ?? {}) as {
        delta?: Record<string, unknown>;
        finish_reason?: string;
      };
    for (const [base, model] of [
      [glm, 'glm-4.5-flash'],
      [kimi, 'kimi-k2-0905-preview'],
    ] as const) {
      const seen = await ask(base, model);
      expect(seen.done).toBe(true);
      expect(seen.events.some((e) => typeof delta(e).delta?.reasoning_content === 'string')).toBe(true);
      const calls = seen.events.flatMap((e) => (delta(e).delta?.tool_calls as unknown[]) ?? []);
      expect(JSON.stringify(calls)).toContain('get_weather');
      expect(seen.events.map((e) => delta(e).finish_reason).filter(Boolean)).toEqual(['tool_calls']);
    }
  }, 30_000);

  it('a bad --fault is a usage error before anything listens', async () => {
    const run = await runExai(['emulator', '--port', '0', '--fault', 'drop:soon'], {});
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split('\n')).toEqual([expect.stringMatching(/bad fault "drop:soon"/)]);
  });

  it('--help documents the fault language and the switches', async () => {
    const run = await runExai(['emulator', '--help'], {});
    expect(run.code).toBe(0);
    for (const word of ['--fault <spec>', '--reasoning', '--tools', '--echo-messages', 'drop:N', 'times=N'])
      expect(run.stdout).toContain(word);
  });
});

describe('echoMessages', () => {
  let emu: Emulator | undefined;
  afterEach(async () => {
    await emu?.close();
  });

  it('a stream broken inside the echoed answer is continued without repeating or losing text', async () => {
    emu = await startEmulator({ echoMessages: true, words: 20 });
    const { client } = testClient(emu, 'kimi');
    const whole = await client.chat.completions.create({
      model: 'kimi-k2-0905-preview',
      messages: user('x'),
    });
    expect(whole.content).toMatch(/^\[1 message\] /);
    emu.script([{ type: 'drop', afterChunks: 4 }]);
    const stream = await client.chat.completions.create({
      model: 'kimi-k2-0905-preview',
      messages: user('x'),
      stream: true,
    });
    const result = await stream.finalResult();
    expect(result.metadata.recovered).toBe(true);
    expect(result.content).toBe(whole.content);
  });
});

describe('the --fault language knows the provider faults', () => {
  it.each([
    ['error-frame:0,code=1302', { type: 'error-frame', afterChunks: 0, code: '1302' }],
    ['finish:network_error,after=8', { type: 'finish', reason: 'network_error', afterChunks: 8 }],
    [
      'status:429,code=1113,message=no money',
      { type: 'status', status: 429, code: '1113', message: 'no money' },
    ],
    ['break-tool-call:2', { type: 'break-tool-call', afterToolDeltas: 2 }],
    ['truncate:3,same-spot', { type: 'truncate', afterChunks: 3, sameSpot: true }],
    ['none,leading-newline,no-text', { type: 'none', leadingNewline: true, noText: true }],
    ['refuse-stream:unsupported', { type: 'refuse-stream', mode: 'unsupported' }],
  ])('%s', (text, spec) => {
    expect(parseFault(text).spec).toEqual(spec);
  });

  it('a finish without its reason is refused with the rule', () => {
    expect(() => parseFault('finish,after=3')).toThrow(/finish fault needs a reason/);
  });
});
