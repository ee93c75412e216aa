// Raw wiring for the security probes: `exai serve` on stdio driven line by line, and raw HTTP
// requests with exactly the headers a probe needs (Node's client would merge or refuse some).
import { type ChildProcess, spawn } from 'node:child_process';
import net from 'node:net';
import { BIN, CWD } from '../helpers/mcp.js';

export interface RawStdio {
  child: ChildProcess;
  /** Every JSON line the server wrote to stdout, parsed. */
  lines: Array<Record<string, unknown>>;
  /** Raw stdout, for the checks that stdout carries protocol messages only. */
  stdout(): string;
  stderr(): string;
  write(text: string | Buffer): Promise<void>;
  send(message: object): Promise<void>;
  /** Resolves with the first line that matches (waits up to `ms`). */
  next(match: (line: Record<string, unknown>) => boolean, ms?: number): Promise<Record<string, unknown>>;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

export function spawnStdio(env: Record<string, string>, args: string[] = ['serve']): RawStdio {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: CWD, env, stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: Array<Record<string, unknown>> = [];
  let out = '';
  let err = '';
  let pending = '';
  const waiters = new Set<() => void>();
  child.stdout?.setEncoding('utf8').on('data', (s: string) => {
    out += s;
    pending += s;
    let nl = pending.indexOf('\n');
    while (nl !== -1) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      nl = pending.indexOf('\n');
    }
    for (const w of waiters) w();
  });
  child.stderr?.setEncoding('utf8').on('data', (s: string) => {
    err += s;
  });
  child.stdin?.on('error', () => {});
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  const write = (text: string | Buffer) =>
    new Promise<void>((resolve, reject) => child.stdin?.write(text, (e) => (e ? reject(e) : resolve())));
  return {
    child,
    lines,
    stdout: () => out,
    stderr: () => err,
    write,
    send: (m) => write(`${JSON.stringify(m)}\n`),
    next(match, ms = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const hit = lines.find(match);
          if (!hit) return;
          waiters.delete(check);
          clearTimeout(timer);
          resolve(hit);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching line in ${ms} ms; stdout:\n${out.slice(-2000)}\nstderr:\n${err}`));
        }, ms);
        waiters.add(check);
        check();
      });
    },
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

export const INIT = {
  jsonrpc: '2.0',
  id: 'init',
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'probe', version: '0' } },
};

export interface RawHttpResponse {
  status: number;
  head: string;
  body: string;
}

/** One raw HTTP/1.1 exchange over a fresh socket: the request is sent exactly as given. */
export function rawHttp(port: number, request: string, body = ''): Promise<RawHttpResponse> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let data = '';
    socket.setEncoding('utf8');
    socket.on('data', (s: string) => {
      data += s;
    });
    socket.on('error', reject);
    socket.on('close', () => {
      const split = data.indexOf('\r\n\r\n');
      const head = split === -1 ? data : data.slice(0, split);
      resolve({
        status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0),
        head,
        body: data.slice(split + 4),
      });
    });
    socket.write(
      `${request.replace(/\n/g, '\r\n')}\r\nconnection: close\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n`,
    );
    socket.end(body);
  });
}

/**
 * A tool call (`chat` unless named) over a raw socket whose client then reads nothing (the socket is paused): the
 * server's writes pile up in its buffers. `read(n)` takes up to n bytes, as a slow client would.
 */
export function unreadCall(
  port: number,
  args: Record<string, unknown>,
  progressToken: string | number = 1,
  tool = 'chat',
) {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  const body = JSON.stringify({
    jsonrpc: '2.0',
    id: 1,
    method: 'tools/call',
    params: { name: tool, arguments: args, _meta: { progressToken } },
  });
  socket.write(
    `POST /mcp HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\ncontent-type: application/json\r\n` +
      'accept: application/json, text/event-stream\r\nmcp-protocol-version: 2025-06-18\r\n' +
      `content-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
  socket.pause();
  return {
    socket,
    read: (bytes: number) => (socket.read(bytes) as Buffer | null)?.length ?? 0,
    close: () => socket.destroy(),
  };
}
