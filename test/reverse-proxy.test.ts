// exai behind a real reverse proxy: nginx balancing two `exai serve --http` instances on loopback.
// Progress must flow through unbuffered, calls spread over both instances, a client that goes away
// cancels upstream, SIGTERM on one instance loses no started call, and heartbeats beat the proxy's
// read timeout. Skipped (one line) only when nginx is not installed.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, emulatorAnswer, startEmulator } from '../src/emulator/index.js';
import {
  answerFor,
  connectHttp,
  exaiResult,
  type HttpChild,
  nextClientClose,
  now,
  progressCollector,
  serverEnv,
  startHttpChild,
  textOf,
} from './helpers/mcp.js';
import { chatToEnd, type Part, part } from './helpers/mcp-resume.js';
import { HAVE_REDIS, type RedisServer, startRedis } from './helpers/redis.js';

function findNginx(): string | undefined {
  for (const p of ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx'])
    if (existsSync(p)) return p;
  try {
    return execFileSync('sh', ['-c', 'command -v nginx'], { encoding: 'utf8' }).trim() || undefined;
  } catch {
    return undefined;
  }
}

const NGINX = findNginx();
if (!NGINX) console.warn('reverse-proxy test skipped: nginx not found (install Debian package "nginx")');

const TOKEN = 'proxy-test-token-0123456789';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const MODEL = 'glm-4.5-flash';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** The nginx config of docs/deploy.md, on loopback ports, with a short read timeout. */
function nginxConfig(dir: string, listen: number, backends: number[]): string {
  return `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  upstream exai {
    # Calls are long-lived SSE responses: send each new one to the instance with the fewest open.
    least_conn;
${backends.map((p) => `    server 127.0.0.1:${p};`).join('\n')}
  }
  server {
    listen 127.0.0.1:${listen};
    location / {
      proxy_pass http://exai;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      # Shorter than the 3 s silence in the heartbeat test: only heartbeats keep the call alive.
      proxy_read_timeout 2s;
    }
  }
}
`;
}

/** nginx in front of these loopback ports; resolves once it answers /healthz. */
async function startNginx(ports: number[]): Promise<{ proc: ChildProcess; url: URL }> {
  const dir = mkdtempSync(join(tmpdir(), 'exai-nginx-'));
  chmodSync(dir, 0o777);
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, nginxConfig(dir, port, ports));
  const proc = spawn(NGINX as string, ['-c', conf, '-p', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
  const url = new URL(`http://127.0.0.1:${port}/mcp`);
  // Ready when it answers (a 401 from exai through nginx is an answer).
  for (let i = 0; i < 100; i++) {
    const status = await new Promise<number>((resolve) => {
      http
        .get(new URL('/healthz', url), (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        })
        .on('error', () => resolve(0));
    });
    if (status === 200) return { proc, url };
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nginx did not answer on ${url.host}`);
}

describe.skipIf(!NGINX)('behind nginx', () => {
  let emu: Emulator;
  let backends: HttpChild[] = [];
  let nginx: ChildProcess;
  let proxyURL: URL;
  const figures: Record<string, number> = {};

  beforeAll(async () => {
    emu = await startEmulator({ paceMs: 15 });
    // nginx sends `Host: exai` (the upstream's name) by default: allow it rather than rewrite it.
    const env = serverEnv(emu, {
      EXAI_HTTP_TOKEN: TOKEN,
      EXAI_HTTP_ALLOWED_HOSTS: 'exai',
      EXAI_HEARTBEAT_MS: '500',
      EXAI_PROGRESS_INTERVAL_MS: '20',
    });
    backends = await Promise.all([startHttpChild(env), startHttpChild(env)]);
    ({ proc: nginx, url: proxyURL } = await startNginx(backends.map((b) => Number(b.url.port))));
  }, 30_000);

  afterAll(async () => {
    console.info('reverse-proxy figures:', JSON.stringify(figures));
    nginx?.kill('SIGQUIT');
    await Promise.all(backends.map((b) => b.stop()));
    await emu?.close();
  });

  /** Time from the call to its first progress notification, and whether the emulator was still sending. */
  async function firstProgress(url: URL, prompt: string) {
    const conn = await connectHttp(url, AUTH);
    const p = progressCollector(conn.wire, prompt);
    const started = now();
    let first = 0;
    let stillSending: boolean | undefined;
    const result = await conn.client.callTool(
      { name: 'chat', arguments: { prompt, model: MODEL } },
      {
        onprogress: (n) => {
          p.onprogress(n);
          if (!first) {
            first = now() - started;
            stillSending = emu.requests.at(-1)?.endedAt === undefined;
          }
        },
      },
    );
    await conn.close();
    return { first, stillSending, updates: p.seen.length, text: textOf(result), joined: p.content() };
  }

  it('relays progress through nginx as it is produced, as fast as direct', async () => {
    const direct: number[] = [];
    const proxied: number[] = [];
    for (let i = 0; i < 3; i++) {
      const d = await firstProgress(backends[0]?.url as URL, `direct ${i}`);
      const p = await firstProgress(proxyURL, `proxied ${i}`);
      expect(p.stillSending).toBe(true);
      expect(p.updates).toBeGreaterThan(10);
      expect(p.joined).toBe(p.text);
      expect(p.text).toBe(answerFor('glm', MODEL, `proxied ${i}`).content);
      direct.push(d.first);
      proxied.push(p.first);
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
    figures.firstProgressDirectMs = +median(direct).toFixed(1);
    figures.firstProgressProxiedMs = +median(proxied).toFixed(1);
  });

  it('spreads 40 concurrent calls over both instances, every answer exact', async () => {
    const before = backends.map((b) => (b.stderr().match(/"chat done"/g) ?? []).length);
    const calls = Array.from({ length: 40 }, async (_, i) => {
      const conn = await connectHttp(proxyURL, AUTH);
      const prompt = `spread ${i}`;
      const p = progressCollector(conn.wire, prompt);
      const result = await conn.client.callTool(
        { name: 'chat', arguments: { prompt, model: MODEL } },
        { onprogress: p.onprogress },
      );
      await conn.close();
      return textOf(result) === answerFor('glm', MODEL, prompt).content && p.content() === textOf(result);
    });
    expect((await Promise.all(calls)).filter(Boolean)).toHaveLength(40);
    await new Promise((r) => setTimeout(r, 100));
    const served = backends.map((b, i) => (b.stderr().match(/"chat done"/g) ?? []).length - (before[i] ?? 0));
    figures.spreadA = served[0] ?? 0;
    figures.spreadB = served[1] ?? 0;
    expect(served.every((n) => n > 0)).toBe(true);
    expect((served[0] ?? 0) + (served[1] ?? 0)).toBe(40);
  });

  it('a client that disconnects through nginx cancels its upstream request within 100 ms', async () => {
    const closed = nextClientClose(emu);
    let droppedAt = 0;
    await new Promise<void>((resolve, reject) => {
      const req = http.request(proxyURL, {
        method: 'POST',
        headers: {
          ...AUTH,
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': '2025-06-18',
        },
      });
      req.on('response', (res) => {
        res.setEncoding('utf8').on('data', (s: string) => {
          if (!droppedAt && s.includes('notifications/progress')) {
            droppedAt = now();
            req.destroy();
            resolve();
          }
        });
      });
      req.on('error', (e) => (droppedAt ? undefined : reject(e)));
      req.end(
        JSON.stringify({
          jsonrpc: '2.0',
          id: 1,
          method: 'tools/call',
          params: {
            name: 'chat',
            arguments: { prompt: 'drop me', model: MODEL },
            _meta: { progressToken: 1 },
          },
        }),
      );
    });
    const ms = (await closed) - droppedAt;
    figures.cancelThroughProxyMs = +ms.toFixed(1);
    expect(ms).toBeLessThan(100);
  });

  it('keeps a long silent call alive past the proxy read timeout with heartbeats', async () => {
    emu.script([{ type: 'stall', afterChunks: 3, ms: 3000 }]);
    const conn = await connectHttp(proxyURL, AUTH);
    const p = progressCollector(conn.wire, 'long silence');
    const result = await conn.client.callTool(
      { name: 'chat', arguments: { prompt: 'long silence', model: MODEL } },
      { onprogress: p.onprogress, timeout: 30_000 },
    );
    await conn.close();
    expect(textOf(result)).toBe(answerFor('glm', MODEL, 'long silence').content);
    expect(p.seen.filter((s) => s.heartbeat).length).toBeGreaterThanOrEqual(3);
  }, 30_000);

  it('SIGTERM on one instance during traffic loses no call that had started', async () => {
    const victim = backends[1] as HttpChild;
    const before = (victim.stderr().match(/"chat done"/g) ?? []).length;
    let streaming = 0;
    let allStreaming!: () => void;
    const everyCallStreaming = new Promise<void>((resolve) => {
      allStreaming = resolve;
    });
    const calls = Array.from({ length: 20 }, async (_, i) => {
      const prompt = `drain traffic ${i}`;
      const conn = await connectHttp(proxyURL, AUTH);
      let seen = false;
      const result = await conn.client.callTool(
        { name: 'chat', arguments: { prompt, model: MODEL } },
        {
          onprogress: () => {
            if (seen) return;
            seen = true;
            if (++streaming === 20) allStreaming();
          },
        },
      );
      await conn.close().catch(() => {});
      const sc = exaiResult(result);
      return { prompt, text: textOf(result), interrupted: sc?.metadata?.interrupted === true };
    });
    // Every call is streaming (on one instance or the other) when the victim gets SIGTERM.
    await everyCallStreaming;
    victim.child.kill('SIGTERM');
    const outcomes = await Promise.all(calls);
    let lost = 0;
    for (const o of outcomes) {
      const full = answerFor('glm', MODEL, o.prompt).content;
      const ok = o.interrupted ? full.startsWith(o.text) && o.text.length > 0 : o.text === full;
      if (!ok) lost++;
    }
    expect(await victim.exited).toBe(0);
    figures.callsOnDrainedInstance = (victim.stderr().match(/"chat done"/g) ?? []).length - before;
    figures.callsLostOnDrain = lost;
    expect(figures.callsOnDrainedInstance).toBeGreaterThan(0);
    expect(lost).toBe(0);
    // The proxy now sends everything to the instance that is left.
    const after = await firstProgress(proxyURL, 'after the drain');
    expect(after.text).toBe(answerFor('glm', MODEL, 'after the drain').content);
  }, 60_000);
});

describe.skipIf(!NGINX || !HAVE_REDIS)('two instances sharing Redis, behind nginx', () => {
  const BUDGET_MS = 1500;
  let emu: Emulator;
  let redis: RedisServer;
  let a: HttpChild;
  let b: HttpChild;
  let nginx: ChildProcess;
  let proxyURL: URL;

  beforeAll(async () => {
    // ~70 chunks at 60 ms: answers of about 4 s, three parts or so at a 1.5 s budget.
    emu = await startEmulator({ paceMs: 60 });
    redis = await startRedis();
    const env = serverEnv(emu, {
      EXAI_HTTP_TOKEN: TOKEN,
      EXAI_HTTP_ALLOWED_HOSTS: 'exai',
      EXAI_STORE: redis.url,
      EXAI_CALL_BUDGET_MS: String(BUDGET_MS),
    });
    [a, b] = await Promise.all([startHttpChild(env), startHttpChild(env)]);
    ({ proc: nginx, url: proxyURL } = await startNginx([Number(a.url.port), Number(b.url.port)]));
  }, 30_000);

  afterAll(async () => {
    nginx?.kill('SIGQUIT');
    await Promise.all([a?.stop(), b?.stop()]);
    await redis?.stop();
    await emu?.close();
  });

  const joined = (parts: Part[]) => parts.map((p) => p.text).join('');

  it('an answer begun on A is finished by chat_resume calls on B', async () => {
    const onA = await connectHttp(a.url, AUTH);
    const onB = await connectHttp(b.url, AUTH);
    try {
      const prompt = 'begun on A';
      const parts = [await part(onA.client, onA.wire, 'chat', { prompt, model: MODEL })];
      while (parts.at(-1)?.meta.resume_id) {
        parts.push(await part(onB.client, onB.wire, 'chat_resume', { resume_id: parts[0]?.meta.resume_id }));
      }
      expect(parts.length).toBeGreaterThanOrEqual(2);
      expect(joined(parts)).toBe(answerFor('glm', MODEL, prompt).content);
      expect(parts.at(-1)?.meta.finish_reason).toBe('stop');
      const seen = parts.flatMap((p) => p.seen);
      expect(seen.map((x) => x.seq)).toEqual(seen.map((_, i) => i + 1));
      const id = parts[0]?.meta.resume_id as string;
      expect(a.stderr()).toContain(`"resumeId":"${id}"`);
      expect(b.stderr()).toMatch(new RegExp(`"msg":"chat_resume part".*"resumeId":"${id}"`));
    } finally {
      await onA.close();
      await onB.close();
    }
  }, 30_000);

  it('a conversation begun on A continues on B', async () => {
    const onA = await connectHttp(a.url, AUTH);
    const onB = await connectHttp(b.url, AUTH);
    try {
      const first = await part(onA.client, onA.wire, 'chat', {
        prompt: 'ask on A',
        model: 'glm-4.5',
        wait_ms: 0,
      });
      const id = first.meta.continuation_id as string;
      const second = await part(onB.client, onB.wire, 'chat', {
        prompt: 'follow up on B',
        continuation_id: id,
        wait_ms: 0,
      });
      expect(second.isError).toBe(false);
      const body = emu.requests.at(-1)?.body as { messages: Array<{ role: string; content: string }> };
      expect(body.messages.map((m) => [m.role, m.content])).toEqual([
        ['user', 'ask on A'],
        ['assistant', first.text],
        ['user', 'follow up on B'],
      ]);
      expect(second.text).toBe(emulatorAnswer('glm', body as never).content);
    } finally {
      await onA.close();
      await onB.close();
    }
  }, 30_000);

  it('long answers through nginx are resumed on either instance, every one exact', async () => {
    // Which instance nginx (least_conn) picks for a part depends on how the eight conversations
    // interleave; in about one round in five none of them crossed. Up to three rounds, until one
    // did: every answer of every round must still be exact.
    let crossed = 0;
    for (let round = 0; round < 3 && crossed === 0; round++) {
      const runs = await Promise.all(
        Array.from({ length: 8 }, async (_, i) => {
          const conn = await connectHttp(proxyURL, AUTH);
          try {
            const prompt = `through nginx ${round} ${i}`;
            const parts = await chatToEnd(conn.client, conn.wire, { prompt, model: MODEL });
            return { prompt, parts };
          } finally {
            await conn.close();
          }
        }),
      );
      for (const { prompt, parts } of runs) {
        expect(parts.length).toBeGreaterThanOrEqual(2);
        expect(joined(parts)).toBe(answerFor('glm', MODEL, prompt).content);
        const id = parts[0]?.meta.resume_id as string;
        const ranOn = a.stderr().includes(`"msg":"chat continues after the call budget","resumeId":"${id}"`)
          ? a
          : b;
        const other = ranOn === a ? b : a;
        if (other.stderr().includes(`"msg":"chat_resume part","resumeId":"${id}"`)) crossed++;
      }
      console.log(
        `[reverse proxy] round ${round + 1}: answers with a part served by the other instance: ${crossed} of ${runs.length}`,
      );
    }
    expect(crossed).toBeGreaterThan(0);
  }, 60_000);

  it('SIGTERM on A while B serves its resume loses nothing: A finishes the answer, then exits', async () => {
    const onA = await connectHttp(a.url, AUTH);
    const onB = await connectHttp(b.url, AUTH);
    try {
      const prompt = 'A is stopped meanwhile';
      const first = await part(onA.client, onA.wire, 'chat', { prompt, model: MODEL });
      const id = first.meta.resume_id as string;
      expect(id).toBeDefined();
      await onA.close();
      const resuming = part(onB.client, onB.wire, 'chat_resume', { resume_id: id, wait_ms: 20_000 });
      await new Promise((r) => setTimeout(r, 200));
      a.child.kill('SIGTERM');
      const rest = await resuming;
      expect(rest.meta.resume_id).toBeUndefined();
      expect(rest.meta.metadata.interrupted).toBe(false);
      expect(first.text + rest.text).toBe(answerFor('glm', MODEL, prompt).content);
      expect(await a.exited).toBe(0);
    } finally {
      await onB.close();
    }
  }, 40_000);
});
