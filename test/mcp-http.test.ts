// `exai serve --http` as a child: who may connect (Host, Origin, token), streamed progress over
// SSE, and cancellation by abort, by a dropped connection and by SIGTERM.
import http from 'node:http';
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../src/emulator/index.js';
import {
  answerFor,
  type Connected,
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

const TOKEN = 'mcp-http-token-0123456789';
const AUTH = { authorization: `Bearer ${TOKEN}` };

let emu: Emulator;
let server: HttpChild;
let conn: Connected<Client>;

beforeAll(async () => {
  emu = await startEmulator({ paceMs: 5 });
  server = await startHttpChild(serverEnv(emu, { EXAI_HTTP_TOKEN: TOKEN }));
  conn = await connectHttp(server.url, AUTH);
});
afterEach(() => {
  emu.reset();
  emu.setOptions({ paceMs: 5 });
});
afterAll(async () => {
  await conn?.close();
  await server?.stop();
  await emu?.close();
});

interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A raw POST to the server, as a 2025-06-18 client would send it without a session. */
function post(
  path: string,
  headers: Record<string, string>,
  body: object,
  onData?: (text: string, req: http.ClientRequest) => void,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      new URL(path, server.url),
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': '2025-06-18',
          ...headers,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        const done = () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text });
        res.on('data', (s: string) => {
          text += s;
          onData?.(text, req);
        });
        res.on('end', done);
        res.on('close', done);
      },
    );
    req.on('error', (e) => (req.destroyed ? undefined : reject(e)));
    req.end(JSON.stringify(body));
  });
}

const listTools = { jsonrpc: '2.0', id: 1, method: 'tools/list' };

describe('exai serve --http: who may connect', () => {
  const host = () => server.url.host;
  it.each([
    { what: 'no Authorization header', headers: {}, status: 401 },
    { what: 'a wrong token', headers: { authorization: 'Bearer not-the-token' }, status: 401 },
    { what: 'a token of another scheme', headers: { authorization: `Basic ${TOKEN}` }, status: 401 },
    { what: 'a foreign Origin', headers: { ...AUTH, origin: 'https://evil.example' }, status: 403 },
    { what: 'a null Origin', headers: { ...AUTH, origin: 'null' }, status: 403 },
    { what: 'a foreign Host (DNS rebinding)', headers: { ...AUTH, host: 'evil.example:8765' }, status: 403 },
    {
      what: 'a Host that only starts like localhost',
      headers: { ...AUTH, host: 'localhost.evil.example' },
      status: 403,
    },
  ])('rejects a request with $what ($status)', async ({ headers, status }) => {
    const res = await post('/mcp', headers as Record<string, string>, listTools);
    expect(res.status).toBe(status);
    expect(res.body).not.toContain('"tools"');
    if (status === 401) expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(JSON.parse(res.body)).toMatchObject({ jsonrpc: '2.0', error: { message: expect.any(String) } });
  });

  it.each([
    ['the bound address', () => ({ ...AUTH, host: host() })],
    [
      'localhost and a local Origin',
      () => ({ ...AUTH, host: `localhost:${server.url.port}`, origin: 'http://localhost:6274' }),
    ],
  ])('accepts %s with the token, answering over SSE with X-Accel-Buffering: no', async (_, headers) => {
    const res = await post('/mcp', headers(), listTools);
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(res.headers['x-accel-buffering']).toBe('no');
    expect(res.body).toContain('"name":"chat"');
  });

  it('answers 404 outside /mcp', async () => {
    const res = await post('/other', AUTH, listTools);
    expect(res.status).toBe(404);
  });

  it('refuses to bind a non-loopback address without a token', async () => {
    const env = serverEnv(emu);
    await expect(startHttpChild(env, ['--host', '0.0.0.0'])).rejects.toThrow(
      /exited with 2[\s\S]*without a token: set EXAI_HTTP_TOKEN/,
    );
  });
});

describe('exai serve --http: streaming', () => {
  it('streams progress over SSE with deltas that join to the exact answer', async () => {
    emu.setOptions({ paceMs: 10 });
    const p = progressCollector(conn.wire, 'http stream');
    const result = await conn.client.callTool(
      { name: 'chat', arguments: { prompt: 'http stream', model: 'kimi-k2-0905-preview' } },
      { onprogress: p.onprogress },
    );
    const expected = answerFor('kimi', 'kimi-k2-0905-preview', 'http stream').content;
    expect(textOf(result)).toBe(expected);
    expect(p.content()).toBe(expected);
    expect(p.delivered.length).toBeGreaterThan(5);
    for (let i = 1; i < p.seen.length; i++) {
      expect(p.seen[i]?.progress).toBeGreaterThan(p.seen[i - 1]?.progress ?? 0);
    }
    expect(exaiResult(result).metadata.streamed).toBe(true);
  });

  it('serves 20 concurrent calls independently, each exact', async () => {
    const prompts = Array.from({ length: 20 }, (_, i) => `http concurrent ${i}`);
    const runs = await Promise.all(
      prompts.map(async (prompt) => {
        const p = progressCollector(conn.wire, prompt);
        const result = await conn.client.callTool(
          { name: 'chat', arguments: { prompt, model: 'glm-4.5-flash' } },
          { onprogress: p.onprogress },
        );
        return { p, result, expected: answerFor('glm', 'glm-4.5-flash', prompt).content };
      }),
    );
    for (const { p, result, expected } of runs) {
      expect(textOf(result)).toBe(expected);
      expect(p.content()).toBe(expected);
    }
  });

  it('answers listmodels and version', async () => {
    const models = await conn.client.callTool({ name: 'listmodels', arguments: {} });
    expect((models.structuredContent as { models: unknown[] }).models.length).toBeGreaterThan(5);
    const version = await conn.client.callTool({ name: 'version', arguments: {} });
    expect(version.structuredContent).toMatchObject({ name: 'exai', protocolVersion: '2025-11-25' });
  });

  it('aborting the call closes the upstream connection within 100 ms', async () => {
    emu.setOptions({ paceMs: 20 });
    const controller = new AbortController();
    const closed = nextClientClose(emu);
    let abortedAt = 0;
    const p = progressCollector(conn.wire, 'http cancel');
    const call = conn.client.callTool(
      { name: 'chat', arguments: { prompt: 'http cancel', model: 'glm-4.5-flash' } },
      {
        signal: controller.signal,
        onprogress: (n) => {
          p.onprogress(n);
          if (p.delivered.length === 3) {
            abortedAt = now();
            controller.abort();
          }
        },
      },
    );
    await expect(call).rejects.toThrow();
    const ms = (await closed) - abortedAt;
    console.log(`[mcp http] client abort → upstream closed in ${ms.toFixed(1)} ms`);
    expect(ms).toBeLessThan(100);
    expect(answerFor('glm', 'glm-4.5-flash', 'http cancel').content.startsWith(p.content())).toBe(true);
  });

  it('a client dropping its SSE stream cancels the upstream request within 100 ms', async () => {
    emu.setOptions({ paceMs: 20 });
    const closed = nextClientClose(emu);
    let droppedAt = 0;
    const call = {
      jsonrpc: '2.0',
      id: 9,
      method: 'tools/call',
      params: { name: 'chat', arguments: { prompt: 'drop me' }, _meta: { progressToken: 'drop' } },
    };
    const res = await post('/mcp', AUTH, call, (text, req) => {
      if (!droppedAt && text.includes('notifications/progress')) {
        droppedAt = now();
        req.destroy();
      }
    });
    expect(res.status).toBe(200);
    const ms = (await closed) - droppedAt;
    console.log(`[mcp http] SSE dropped → upstream closed in ${ms.toFixed(1)} ms`);
    expect(ms).toBeLessThan(100);
    expect(emu.requests.at(-1)?.outcome).toBe('client-closed');
  });

  it('SIGINT aborts in-flight upstream requests within 100 ms, flags the partial answer and exits 0', async () => {
    emu.setOptions({ paceMs: 20 });
    const own = await startHttpChild(serverEnv(emu));
    const client = await connectHttp(own.url);
    try {
      const closed = nextClientClose(emu);
      let killedAt = 0;
      const p = progressCollector(client.wire, 'until shutdown');
      const call = client.client.callTool(
        { name: 'chat', arguments: { prompt: 'until shutdown', model: 'glm-4.5-flash' } },
        {
          onprogress: (n) => {
            p.onprogress(n);
            if (p.delivered.length === 2) {
              killedAt = now();
              own.child.kill('SIGINT');
            }
          },
        },
      );
      const outcome = call.then(
        (result) => result,
        (error: Error) => error,
      );
      const ms = (await closed) - killedAt;
      console.log(`[mcp http] SIGINT → upstream closed in ${ms.toFixed(1)} ms`);
      expect(ms).toBeLessThan(100);
      expect(await own.exited).toBe(0);
      await client.close();
      const result = await outcome;
      // Either the flagged partial answer made it out before the connection closed, or the call failed:
      // never a result that looks complete.
      if (!(result instanceof Error)) {
        const sc = exaiResult(result);
        expect(sc.metadata.interrupted).toBe(true);
        expect(textOf(result, 1)).toMatch(/shutting down/);
        expect(answerFor('glm', 'glm-4.5-flash', 'until shutdown').content.startsWith(textOf(result))).toBe(
          true,
        );
      }
    } finally {
      await client.close().catch(() => {});
      await own.stop();
    }
  });

  it('SIGTERM drains: not ready, the call in flight finishes exactly, then exit 0', async () => {
    emu.setOptions({ paceMs: 10 });
    const own = await startHttpChild(serverEnv(emu));
    const client = await connectHttp(own.url);
    try {
      const p = progressCollector(client.wire, 'drain me');
      let signalled = false;
      const call = client.client.callTool(
        { name: 'chat', arguments: { prompt: 'drain me', model: 'kimi-k2-0905-preview' } },
        {
          onprogress: (n) => {
            p.onprogress(n);
            if (!signalled) {
              signalled = true;
              own.child.kill('SIGTERM');
            }
          },
        },
      );
      const result = await call;
      expect(textOf(result)).toBe(answerFor('kimi', 'kimi-k2-0905-preview', 'drain me').content);
      expect(p.content()).toBe(textOf(result));
      expect(await own.exited).toBe(0);
      expect(own.stderr()).toMatch(/draining/);
    } finally {
      await client.close().catch(() => {});
      await own.stop();
    }
  });

  it('SIGTERM past EXAI_DRAIN_TIMEOUT_MS aborts the rest with a flagged partial answer', async () => {
    emu.setOptions({ paceMs: 30 });
    const own = await startHttpChild(serverEnv(emu, { EXAI_DRAIN_TIMEOUT_MS: '300' }));
    const client = await connectHttp(own.url);
    try {
      let signalled = false;
      const result = await client.client.callTool(
        { name: 'chat', arguments: { prompt: 'too long to drain', model: 'glm-4.5-flash' } },
        {
          onprogress: () => {
            if (!signalled) {
              signalled = true;
              own.child.kill('SIGTERM');
            }
          },
        },
      );
      const sc = exaiResult(result);
      expect(sc.metadata.interrupted).toBe(true);
      expect(textOf(result).length).toBeGreaterThan(0);
      expect(answerFor('glm', 'glm-4.5-flash', 'too long to drain').content.startsWith(textOf(result))).toBe(
        true,
      );
      expect(textOf(result, 1)).toMatch(/incomplete.*shutting down/);
      expect(await own.exited).toBe(0);
    } finally {
      await client.close().catch(() => {});
      await own.stop();
    }
  });
});

describe('exai serve --http: health, readiness and metrics', () => {
  const get = (path: string, headers: Record<string, string> = {}) =>
    new Promise<RawResponse>((resolve, reject) => {
      http
        .get(new URL(path, server.url), { headers }, (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (s: string) => {
            body += s;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
        })
        .on('error', reject);
    });

  it('answers /healthz and /readyz without a token, whatever the Host', async () => {
    expect((await get('/healthz', { host: 'pod-10-1-2-3:8765' })).status).toBe(200);
    const ready = await get('/readyz', { host: 'kubelet-probe' });
    expect(ready.status).toBe(200);
    expect(ready.body).toMatch(/ready/);
  });

  it('keeps /metrics behind the token', async () => {
    expect((await get('/metrics')).status).toBe(401);
    expect((await get('/metrics', { authorization: 'Bearer wrong' })).status).toBe(401);
  });

  it('counts calls, chunks, progress and latency in Prometheus text format, with no key or prompt in it', async () => {
    const before = await get('/metrics', AUTH);
    const count = (text: string, re: RegExp) => Number(re.exec(text)?.[1] ?? 0);
    const okCalls = /exai_requests_total\{provider="glm",model="glm-4\.5-flash",outcome="ok"\} (\d+)/;
    await conn.client.callTool(
      { name: 'chat', arguments: { prompt: 'metrics prompt SECRET-PROMPT', model: 'glm-4.5-flash' } },
      { onprogress: () => {} },
    );
    const after = await get('/metrics', AUTH);
    expect(after.status).toBe(200);
    expect(after.headers['content-type']).toMatch(/text\/plain/);
    expect(count(after.body, okCalls)).toBe(count(before.body, okCalls) + 1);
    expect(count(after.body, /exai_chunks_total\{provider="glm"\} (\d+)/)).toBeGreaterThan(
      count(before.body, /exai_chunks_total\{provider="glm"\} (\d+)/),
    );
    expect(count(after.body, /exai_progress_notifications_total (\d+)/)).toBeGreaterThan(0);
    expect(after.body).toMatch(/exai_time_to_first_token_seconds_count\{provider="glm"\} [1-9]/);
    expect(after.body).toMatch(/exai_request_duration_seconds_bucket/);
    expect(after.body).toMatch(/exai_active_streams 0/);
    expect(after.body).not.toContain('SECRET');
    expect(after.body).not.toContain(TOKEN);
  });
});
