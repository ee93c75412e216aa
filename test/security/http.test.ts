// Probes of `exai serve --http`: ambiguous and hostile requests, the bind refusal, concurrency,
// cancellation scope, the drain, and clients that stop reading. Every probe is a regression test.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { type Emulator, emulatorAnswer, startEmulator } from '../../src/emulator/index.js';
import { createLogger } from '../../src/log.js';
import { serveHttp } from '../../src/mcp/http.js';
import { bindRefusal, bindsLoopbackOnly, isLoopbackAddress } from '../../src/mcp/http-guard.js';
import {
  answerFor,
  connectHttp,
  exaiResult,
  type HttpChild,
  serverEnv,
  startHttpChild,
  textOf,
} from '../helpers/mcp.js';
import { testEnv } from '../helpers/setup.js';
import { rawHttp, unreadCall } from './helpers.js';

const TOKEN = 'security-probe-token-0123456789abcdef';
let emu: Emulator;
let open: HttpChild; // no token
let guarded: HttpChild; // with a token

beforeAll(async () => {
  emu = await startEmulator({ paceMs: 0 });
  [open, guarded] = await Promise.all([
    startHttpChild(serverEnv(emu)),
    startHttpChild(serverEnv(emu, { EXAI_HTTP_TOKEN: TOKEN })),
  ]);
});
afterAll(async () => {
  await Promise.all([open?.stop(), guarded?.stop()]);
  await emu?.close();
});

const port = (s: HttpChild) => Number(s.url.port);

/** Bytes the server's process has read so far (all its reads: sockets, files), from /proc. */
function bytesRead(s: HttpChild): number {
  const io = readFileSync(`/proc/${s.child.pid}/io`, 'utf8');
  return Number(/^rchar: (\d+)$/m.exec(io)?.[1]);
}
const list = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
const postHead = (s: HttpChild, extra = '') =>
  `POST /mcp HTTP/1.1\nhost: 127.0.0.1:${port(s)}\ncontent-type: application/json\n` +
  `accept: application/json, text/event-stream\nmcp-protocol-version: 2025-06-18${extra}`;

describe('ambiguous and hostile HTTP requests', () => {
  it('two Host headers: 400, whichever comes first', async () => {
    for (const order of [
      ['127.0.0.1', 'evil.example'],
      ['evil.example', '127.0.0.1'],
    ]) {
      const res = await rawHttp(
        port(open),
        `POST /mcp HTTP/1.1\nhost: ${order[0]}:${port(open)}\nhost: ${order[1]}:${port(open)}\ncontent-type: application/json\naccept: application/json, text/event-stream`,
        list,
      );
      expect(res.status).toBe(400);
      expect(res.body).toMatch(/more than one host header/);
    }
  });

  it('two Authorization headers: 400, even when the first holds the token', async () => {
    const res = await rawHttp(
      port(guarded),
      postHead(guarded, `\nauthorization: Bearer ${TOKEN}\nauthorization: Bearer wrong`),
      list,
    );
    expect(res.status).toBe(400);
    expect(res.body).toMatch(/more than one authorization header/);
  });

  it('JSON nested 100k levels deep: 400, and the server keeps serving', async () => {
    const deep = `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    const res = await rawHttp(port(open), postHead(open), deep);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body)).toMatchObject({ id: null, error: { code: -32600 } });
    expect((await rawHttp(port(open), postHead(open), list)).body).toContain('"chat"');
  });

  it('/metrics is behind the Host check (a rebinding page cannot read it without a token)', async () => {
    const res = await rawHttp(port(open), `GET /metrics HTTP/1.1\nhost: evil.example:${port(open)}`);
    expect(res.status).toBe(403);
    const ok = await rawHttp(port(open), `GET /metrics HTTP/1.1\nhost: 127.0.0.1:${port(open)}`);
    expect(ok.status).toBe(200);
  });

  it.each([
    ['/.well-known/oauth-protected-resource', ''],
    ['/.well-known/oauth-protected-resource', `\nauthorization: Bearer ${TOKEN}`],
    ['/.well-known/oauth-authorization-server', ''],
    ['/register', ''],
  ])('unknown path %s answers 404 with or without a token (%j)', async (path, auth) => {
    const res = await rawHttp(port(guarded), `GET ${path} HTTP/1.1\nhost: 127.0.0.1:${port(guarded)}${auth}`);
    expect(res.status).toBe(404);
    expect(res.head.toLowerCase()).not.toContain('www-authenticate');
  });

  it('a 401 is logged as one valid JSON line without the presented credential', async () => {
    const before = guarded.stderr().length;
    await rawHttp(
      port(guarded),
      postHead(guarded, '\nauthorization: Bearer presented-"quoted"-cred\\x'),
      list,
    );
    await new Promise((r) => setTimeout(r, 100));
    const lines = guarded.stderr().slice(before).trim().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    expect(guarded.stderr()).not.toContain('presented-');
  });

  it('too many large bodies at once: the one over the global budget gets 503 at once', async () => {
    const size = 4 * 1024 * 1024 - 1024;
    const sockets: net.Socket[] = [];
    const answers: Promise<string>[] = [];
    for (let i = 0; i < 12; i++) {
      const socket = net.connect(port(open), '127.0.0.1');
      sockets.push(socket);
      let data = '';
      socket.on('error', () => {});
      // Resolved by the status line: the sockets stay open (a half-close would abort the answer).
      answers.push(
        new Promise((resolve) => {
          socket.setEncoding('utf8').on('data', (d: string) => {
            data += d;
            if (data.includes('\r\n')) resolve(data);
          });
          socket.on('close', () => resolve(data));
        }),
      );
      socket.write(`${postHead(open).replace(/\n/g, '\r\n')}\r\ncontent-length: ${size + 2}\r\n\r\n"`);
      // Most of the body, not all: every request stays being read.
      socket.write(Buffer.alloc(size - 1024, 'a'));
    }
    // 12 bodies of nearly 4 MiB being read exceed the 32 MiB budget: the first answer is a 503,
    // sent while every body is still incomplete.
    const first = await Promise.race(answers);
    expect(Number(/^HTTP\/1\.1 (\d{3})/.exec(first)?.[1])).toBe(503);
    for (const s of sockets) s.write(`${'a'.repeat(1024)}"`);
    const statuses = (await Promise.all(answers)).map((d) => Number(/^HTTP\/1\.1 (\d{3})/.exec(d)?.[1]));
    // Every request got an answer; the ones over the budget a 503.
    expect(statuses.every((s) => s >= 200)).toBe(true);
    for (const s of sockets) s.destroy();
    expect(statuses).toContain(503);
    expect((await rawHttp(port(open), postHead(open), list)).body).toContain('"chat"');
  });
});

describe('refused bodies: the answer reaches a client that is still sending', () => {
  /**
   * A client that reads nothing until it has sent what it sends (`send` resolves once the bytes are
   * written), then reads one answer (`read`), and on the same connection sends `next` and reads its
   * answer too: what a client that sends its whole body before it reads the answer sees.
   */
  function unreadSender() {
    const socket = net.connect(port(open), '127.0.0.1');
    socket.pause();
    let error = '';
    socket.on('error', (e: NodeJS.ErrnoException) => {
      error = e.code ?? e.message;
    });
    const closed = new Promise<void>((done) => socket.once('close', () => done()));
    let data = '';
    const waitFor = (re: RegExp) =>
      Promise.race([
        new Promise<void>((done) => {
          const look = () => re.test(data) && done();
          socket.on('data', look);
          look();
        }),
        closed,
      ]);
    return {
      send: (bytes: string | Buffer) => new Promise<void>((done) => socket.write(bytes, () => done())),
      async read(next?: string) {
        socket.setEncoding('utf8').on('data', (d: string) => {
          data += d;
        });
        socket.resume();
        await waitFor(/^HTTP\/1\.1 \d{3}[\s\S]*?\r\n\r\n[\s\S]*(\}|\r\n0\r\n\r\n)$/);
        const first = data;
        let second = '';
        if (next && !socket.destroyed) {
          data = '';
          socket.write(next);
          await waitFor(/"chat"/);
          second = data;
        }
        socket.destroy();
        return { first, second, error };
      },
    };
  }
  async function sendThenRead(head: string, body: Buffer, next?: string) {
    const client = unreadSender();
    await client.send(head);
    await client.send(body);
    return client.read(next);
  }

  it('a body declared over the message limit: 413, and the connection serves the next request', async () => {
    const size = 5 * 1024 * 1024;
    const head = `${postHead(open).replace(/\n/g, '\r\n')}\r\ncontent-length: ${size}\r\n\r\n`;
    const next = `${postHead(open).replace(/\n/g, '\r\n')}\r\ncontent-length: ${list.length}\r\n\r\n${list}`;
    const { first, second, error } = await sendThenRead(head, Buffer.alloc(size, 'a'), next);
    // Before: the connection was closed while the body was arriving; the client saw EPIPE and no answer.
    expect(error).toBe('');
    expect(first).toMatch(/^HTTP\/1\.1 413 /);
    expect(first).toContain('larger than 4194304 bytes');
    expect(second).toMatch(/^HTTP\/1\.1 200 /);
  });

  it('a body over the limit from a client that asked to close: 413 once the body is in', async () => {
    const size = 8 * 1024 * 1024;
    const head = `${postHead(open).replace(/\n/g, '\r\n')}\r\nconnection: close\r\ncontent-length: ${size}\r\n\r\n`;
    const { first, error } = await sendThenRead(head, Buffer.alloc(size, 'a'));
    // Before: node closed the connection with the answer while the body was arriving (EPIPE).
    expect(error).toBe('');
    expect(first).toMatch(/^HTTP\/1\.1 413 /);
  });

  it('Expect: 100-continue: a body declared over the limit is refused before it is sent', async () => {
    const socket = net.connect(port(open), '127.0.0.1');
    let data = '';
    socket.setEncoding('utf8').on('data', (d: string) => {
      data += d;
    });
    const head = (length: number) =>
      `${postHead(open).replace(/\n/g, '\r\n')}\r\nexpect: 100-continue\r\ncontent-length: ${length}\r\n\r\n`;
    socket.write(head(5 * 1024 * 1024));
    await new Promise<void>((done) => {
      const look = () => /\r\n\r\n[\s\S]*\}/.test(data) && done();
      socket.on('data', look);
    });
    // Before: "100 Continue" first, inviting 5 MiB that would only be dropped.
    expect(data).toMatch(/^HTTP\/1\.1 413 /);
    socket.destroy();
    // Within the limit, the client is invited to send and its request is answered.
    const ok = net.connect(port(open), '127.0.0.1');
    let answer = '';
    ok.setEncoding('utf8').on('data', (d: string) => {
      answer += d;
      if (answer.startsWith('HTTP/1.1 100 ') && !sent) {
        sent = true;
        ok.write(list);
      }
    });
    let sent = false;
    ok.write(head(list.length));
    await new Promise<void>((done) => {
      const look = () => answer.includes('"chat"') && done();
      ok.on('data', look);
      ok.once('close', () => done());
    });
    ok.destroy();
    expect(answer).toMatch(/^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /);
    expect(answer).toContain('"chat"');
  });

  it('a body that grows over the limit (chunked): 413', async () => {
    const mib = `100000\r\n${'a'.repeat(1024 * 1024)}\r\n`;
    const head = `${postHead(open).replace(/\n/g, '\r\n')}\r\ntransfer-encoding: chunked\r\n\r\n`;
    const { first, error } = await sendThenRead(head, Buffer.from(`${mib.repeat(6)}0\r\n\r\n`));
    expect(error).toBe('');
    expect(first).toMatch(/^HTTP\/1\.1 413 /);
  });

  it('twelve clients over the body budget, each reading after it has sent: every one gets its answer', async () => {
    const size = 4 * 1024 * 1024 - 1024;
    const head = `${postHead(open).replace(/\n/g, '\r\n')}\r\ncontent-length: ${size}\r\n\r\n`;
    const clients = Array.from({ length: 12 }, () => unreadSender());
    const before = bytesRead(open);
    // All but the last byte of every body first, so that all twelve are being read at once: 12
    // bodies of nearly 4 MiB exceed the 32 MiB budget.
    await Promise.all(
      clients.map((c) => c.send(Buffer.concat([Buffer.from(`${head}"`), Buffer.alloc(size - 2, 'a')]))),
    );
    // A write is done once the kernel has the bytes; the server may not have read them yet (the
    // loopback's buffers hold megabytes a socket). Only once it has read nearly all of them, more
    // than the budget, have some bodies surely been refused: before that, a body completed by its
    // last byte could be read whole while the rest still wait in the kernel, and none be refused.
    const partial = 12 * (size - 1);
    for (let waited = 0; bytesRead(open) - before < partial && waited < 10_000; waited += 10) await sleep(10);
    expect(bytesRead(open) - before).toBeGreaterThanOrEqual(partial);
    await Promise.all(clients.map((c) => c.send('"')));
    const answers = await Promise.all(clients.map((c) => c.read()));
    const statuses = answers.map((a) => Number(/^HTTP\/1\.1 (\d{3})/.exec(a.first)?.[1]));
    // Before: the refused ones were cut while sending; a client saw EPIPE and no answer (in one
    // run of three here).
    expect(answers.map((a) => a.error)).toEqual(Array(12).fill(''));
    // Some, not a set number: a byte handed to the kernel may not have been read by the server yet.
    expect(statuses).toContain(503);
    // The rest are read whole and refused as not being JSON-RPC.
    expect(statuses.every((s) => s === 503 || s === 400)).toBe(true);
    const refused = answers.find((a) => a.first.startsWith('HTTP/1.1 503'));
    expect(refused?.first).toMatch(/retry-after: 1/i);
  });
});

describe('binding: loopback is decided on the resolved address; off loopback a strong token', () => {
  it('classifies addresses and names by what they resolve to', async () => {
    expect(isLoopbackAddress('127.0.0.1')).toBe(true);
    expect(isLoopbackAddress('127.8.9.10')).toBe(true);
    expect(isLoopbackAddress('::ffff:127.0.0.1')).toBe(true);
    expect(isLoopbackAddress('[::1]')).toBe(true);
    expect(isLoopbackAddress('10.0.0.1')).toBe(false);
    expect(await bindsLoopbackOnly('localhost')).toBe(true);
    expect(await bindsLoopbackOnly('0.0.0.0')).toBe(false);
    expect(await bindsLoopbackOnly('::')).toBe(false);
    // Spelled like loopback, but it does not resolve to it here: not loopback.
    expect(await bindsLoopbackOnly('exai-test.localhost')).toBe(false);
  });

  it('refuses a short token off loopback with a one-line hint to generate one; accepts 32 characters', async () => {
    const short = await bindRefusal('0.0.0.0', 'x');
    expect(short).toMatch(/EXAI_HTTP_TOKEN has 1 characters, at least 32/);
    expect(short).toMatch(/randomBytes\(32\)/);
    expect(short).not.toContain('\n');
    expect(await bindRefusal('0.0.0.0', undefined)).toMatch(/without a token/);
    expect(await bindRefusal('0.0.0.0', 'a'.repeat(32))).toBeUndefined();
    expect(await bindRefusal('localhost', undefined)).toBeUndefined();
  });

  it('the CLI refuses --host 0.0.0.0 with a 1-character token (exit 2)', async () => {
    await expect(
      startHttpChild(serverEnv(emu, { EXAI_HTTP_TOKEN: 'x' }), ['--host', '0.0.0.0']),
    ).rejects.toThrow(/exited with 2[\s\S]*at least 32/);
  });
});

function rawCall(s: HttpChild, id: number, prompt: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = http.request(
      new URL('/mcp', s.url),
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
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => {
          body += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end(
      JSON.stringify({
        jsonrpc: '2.0',
        id,
        method: 'tools/call',
        params: { name: 'chat', arguments: { prompt, model: 'glm-4.5-flash' } },
      }),
    );
  });
}

describe('calls: how many at once, and who may cancel them', () => {
  it('EXAI_MAX_CONCURRENT_CALLS=4: the fifth call is refused at once (retryable); after one ends a new one runs', async () => {
    const own = await startHttpChild(serverEnv(emu, { EXAI_MAX_CONCURRENT_CALLS: '4' }));
    const conn = await connectHttp(own.url);
    emu.setOptions({ paceMs: 15 });
    try {
      const running = Array.from({ length: 4 }, (_, i) =>
        conn.client.callTool({ name: 'chat', arguments: { prompt: `slot ${i}`, model: 'glm-4.5-flash' } }),
      );
      await new Promise((r) => setTimeout(r, 300));
      const t0 = performance.now();
      const fifth = await conn.client
        .callTool({ name: 'chat', arguments: { prompt: 'fifth', model: 'glm-4.5-flash' } })
        .then(
          () => undefined,
          (error: Error & { code?: number; data?: unknown }) => error,
        );
      expect(performance.now() - t0).toBeLessThan(1000);
      expect(fifth?.message).toMatch(/busy.*EXAI_MAX_CONCURRENT_CALLS=4.*retry/);
      expect(fifth?.code).toBe(-32029);
      expect(fifth?.data).toMatchObject({ retryable: true });
      // One batch cannot start more calls than the limit either: it is refused whole.
      const batch = Array.from({ length: 10 }, (_, i) => ({
        jsonrpc: '2.0',
        id: 100 + i,
        method: 'tools/call',
        params: { name: 'chat', arguments: { prompt: `batch ${i}`, model: 'glm-4.5-flash' } },
      }));
      const batched = await rawHttp(Number(own.url.port), postHead(own), JSON.stringify(batch));
      const replies = JSON.parse(batched.body) as Array<{ id: number; error?: { code: number } }>;
      expect(replies).toHaveLength(10);
      for (const r of replies) expect(r.error?.code).toBe(-32029);
      await running[0];
      const again = await conn.client.callTool({
        name: 'chat',
        arguments: { prompt: 'after', model: 'glm-4.5-flash' },
      });
      expect(textOf(again)).toBe(answerFor('glm', 'glm-4.5-flash', 'after').content);
      await Promise.all(running);
    } finally {
      emu.setOptions({ paceMs: 0 });
      await conn.close();
      await own.stop();
    }
  });

  it('a sessionless client cannot cancel another sessionless client’s call by its request id', async () => {
    emu.setOptions({ paceMs: 10 });
    try {
      const victim = rawCall(open, 42, 'not yours to cancel');
      await new Promise((r) => setTimeout(r, 150));
      const cancel = JSON.stringify({
        jsonrpc: '2.0',
        method: 'notifications/cancelled',
        params: { requestId: 42 },
      });
      await rawHttp(port(open), postHead(open), cancel);
      const res = await victim;
      const data = res.body.split('\n').filter((l) => l.startsWith('data: ') && l.includes('"result"'));
      expect(data.length).toBe(1);
      const message = JSON.parse((data[0] ?? '').slice(6)) as { result: unknown };
      expect(textOf(message.result)).toBe(answerFor('glm', 'glm-4.5-flash', 'not yours to cancel').content);
    } finally {
      emu.setOptions({ paceMs: 0 });
    }
  });
});

describe('drain', () => {
  it('SIGTERM with 20 idle subscriptions/listen streams: exit 0 within 1 s', async () => {
    const own = await startHttpChild(serverEnv(emu));
    const clients: Client[] = [];
    try {
      for (let i = 0; i < 20; i++) {
        const client = new Client(
          { name: `listener ${i}`, version: '0' },
          { versionNegotiation: { mode: { pin: '2026-07-28' } } },
        );
        await client.connect(new StreamableHTTPClientTransport(own.url));
        await client.listen({ toolsListChanged: true });
        clients.push(client);
      }
      const t0 = performance.now();
      own.child.kill('SIGTERM');
      const code = await own.exited;
      const ms = performance.now() - t0;
      console.log(`[drain] 20 listen streams: exit ${code} after ${ms.toFixed(0)} ms`);
      expect(code).toBe(0);
      expect(ms).toBeLessThan(1000);
    } finally {
      await Promise.all(clients.map((c) => c.close().catch(() => {})));
      await own.stop();
    }
  });

  it('with a call in flight: /readyz answers 503 and new calls are refused while it finishes', async () => {
    const own = await startHttpChild(serverEnv(emu));
    emu.setOptions({ paceMs: 15 });
    try {
      const call = rawCall(own, 1, 'finish me');
      await new Promise((r) => setTimeout(r, 200));
      own.child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 100));
      const ready = await rawHttp(Number(own.url.port), `GET /readyz HTTP/1.1\nhost: kubelet`);
      expect(ready.status).toBe(503);
      const refused = await rawCall(own, 2, 'too late');
      expect(refused.status).toBe(503);
      const finished = await call;
      expect(finished.body).toContain('"result"');
      expect(finished.body).toContain(
        JSON.stringify(answerFor('glm', 'glm-4.5-flash', 'finish me').content).slice(1, 40),
      );
      expect(await own.exited).toBe(0);
    } finally {
      emu.setOptions({ paceMs: 0 });
      await own.stop();
    }
  });
});

describe('a client that stops reading', () => {
  /**
   * `exai serve --http` in this process, its log lines kept, with no output cap in the way;
   * `stop()` closes it and puts the emulator back as the other probes expect it.
   */
  async function inProcess(extra: { maxUnwritableMs?: number } = {}) {
    const config = loadConfig({
      env: testEnv(emu, { EXAI_MAX_OUTPUT_BYTES: '104857600' }),
      dotenvDir: false,
    });
    const lines: string[] = [];
    const server = await serveHttp({
      config,
      logger: createLogger('info', (l) => lines.push(l)),
      host: '127.0.0.1',
      port: 0,
      ...extra,
    });
    const stop = async () => {
      emu.script([]);
      emu.setOptions({ paceMs: 0, words: 60, tokensPerChunk: 1 });
      await server.close();
    };
    return { server, log: () => lines.join(''), stop };
  }

  it('and then goes away leaves nothing waiting: SIGTERM exits at once', { timeout: 60_000 }, async () => {
    const own = await startHttpChild(serverEnv(emu));
    // A 10 MB answer (EXAI_MAX_OUTPUT_BYTES cuts it there) fills every buffer of a client that
    // does not read, so its last progress and its result wait for the connection.
    emu.setOptions({ words: 2_500_000, tokensPerChunk: 64 });
    const started = emu.requests.length;
    const call = unreadCall(port(own), {
      prompt: 'read nothing, then leave',
      model: 'kimi-k2-0905-preview',
    });
    try {
      const deadline = performance.now() + 30_000;
      while (emu.requests[started]?.endedAt === undefined && performance.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(emu.requests[started]?.endedAt).toBeDefined();
      await new Promise((r) => setTimeout(r, 300));
      call.close();
      await new Promise((r) => setTimeout(r, 300));
      const t0 = performance.now();
      own.child.kill('SIGTERM');
      // Before: the result waited for a closed connection to become writable, for ever.
      const code = await Promise.race([
        own.exited,
        new Promise((r) => setTimeout(() => r('still running'), 10_000)),
      ]);
      const ms = performance.now() - t0;
      console.log(
        `[drain] after a client that stopped reading went away: exit ${code} after ${ms.toFixed(0)} ms`,
      );
      expect(code).toBe(0);
      expect(ms).toBeLessThan(3000);
    } finally {
      call.close();
      emu.setOptions({ words: 60, tokensPerChunk: 1 });
      await own.stop();
    }
  });

  it('whose early part waits for its connection and who then goes away: the answer stops upstream', {
    timeout: 40_000,
  }, async () => {
    const { server, log, stop } = await inProcess();
    // About 8 MB at full speed fills a connection that is not read, then the stream stalls (open)
    // past the call budget and the end of the test.
    emu.setOptions({ words: 2_000_000, tokensPerChunk: 2000 });
    emu.script([{ type: 'stall', ms: 20_000, afterChunks: 700 }]);
    let closedAt = Number.POSITIVE_INFINITY;
    const closed = new Promise<void>((resolve) =>
      emu.once('client-closed', () => {
        closedAt = performance.now();
        resolve();
      }),
    );
    const call = unreadCall(server.port, {
      prompt: 'leave before the first part',
      model: 'kimi-k2-0905-preview',
      // Long enough for the emulator to plan its 2-million-word answer (about 0.5 s here, 1.6 s
      // before it split the text sentence by sentence: then the part went out before the stream
      // had filled the connection, and this test failed on this machine) and to fill it.
      wait_ms: 2500,
    });
    try {
      // Past the call budget: the first part (and its resume id) waits for the connection.
      await new Promise((r) => setTimeout(r, 3200));
      const goneAt = performance.now();
      call.close();
      await Promise.race([closed, new Promise((r) => setTimeout(r, 15_000))]);
      const ms = closedAt - goneAt;
      console.log(`[unread part] client gone → upstream closed after ${ms.toFixed(0)} ms`);
      // Before: the answer was kept for a resume id nobody had, until abandoned (5 s here).
      expect(ms).toBeLessThan(2000);
      expect(log()).toMatch(/answer abandoned.*its resume id never reached the client/);
    } finally {
      call.close();
      await stop();
    }
  });

  it('whose chat_resume part waits and who then goes away: the part is not spent', {
    timeout: 60_000,
  }, async () => {
    const { server, stop } = await inProcess();
    const model = 'kimi-k2-0905-preview';
    const prompt = 'resume, then leave before the part';
    // About 8 MB at full speed, then the stream stalls (open): the answer keeps a resume id.
    emu.setOptions({ words: 2_000_000, tokensPerChunk: 2000 });
    emu.script([{ type: 'stall', ms: 20_000, afterChunks: 700 }]);
    const reader = await connectHttp(new URL(`http://127.0.0.1:${server.port}/mcp`));
    let unread: ReturnType<typeof unreadCall> | undefined;
    try {
      const first = await reader.client.callTool({
        name: 'chat',
        arguments: { prompt, model, wait_ms: 100 },
      });
      const id = exaiResult(first).resume_id as string;
      expect(id).toMatch(/^r_/);
      // A client that asks for the next part and reads none of it: by the end of its budget the
      // stream has stalled after about 8 MB, the part waits for the connection, then the client leaves
      // (within 5 s of the last call: the answer is not abandoned meanwhile).
      unread = unreadCall(server.port, { resume_id: id, wait_ms: 2500 }, 'gone', 'chat_resume');
      await new Promise((r) => setTimeout(r, 3500));
      unread.close();
      await new Promise((r) => setTimeout(r, 300));
      // The next chat_resume gets that part: nothing of the answer was lost with the client.
      const next = await reader.client.callTool({
        name: 'chat_resume',
        arguments: { resume_id: id, wait_ms: 500 },
      });
      const answer = emulatorAnswer(
        'kimi',
        { model, messages: [{ role: 'user', content: prompt }] },
        {
          words: 2_000_000,
        },
      ).content;
      const joined = textOf(first) + textOf(next);
      console.log(
        `[unread resume] first part ${textOf(first).length} chars, next part ${textOf(next).length} chars`,
      );
      // Before: the unread part was committed, so the next one began after it (a gap of megabytes).
      expect(textOf(next).length).toBeGreaterThan(1_000_000);
      expect(answer.startsWith(joined)).toBe(true);
      await reader.client.callTool({ name: 'chat_resume', arguments: { resume_id: id, cancel: true } });
    } finally {
      unread?.close();
      await reader.close();
      await stop();
    }
  });

  it('is cut after the unwritable limit and its upstream request is cancelled', {
    timeout: 40_000,
  }, async () => {
    // No output cap in the way: only the cut may end this upstream request early.
    const { server, log, stop } = await inProcess({ maxUnwritableMs: 300 });
    // Paced so the upstream is still streaming when the cut comes (the cut must cancel it).
    emu.setOptions({ paceMs: 2, words: 2_000_000, tokensPerChunk: 2000 });
    const closed = new Promise<void>((resolve) => emu.once('client-closed', () => resolve()));
    const call = unreadCall(server.port, { prompt: 'never read', model: 'kimi-k2-0905-preview' });
    try {
      await Promise.race([
        closed,
        new Promise((_, fail) => setTimeout(() => fail(new Error('not cut')), 30_000)),
      ]);
      expect(log()).toMatch(/cut a client that stopped reading/);
      expect(emu.requests.at(-1)?.outcome).toBe('client-closed');
    } finally {
      call.close();
      await stop();
    }
  });
});
