// node:https is loaded on the first https request, not at import (cold start-up cost, issue 20).
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTransport } from '../src/index.js';

const DIST_INDEX = pathToFileURL(resolve(import.meta.dirname, '../dist/index.js')).href;

let server: net.Server;
let port: number;
const firstBytes: number[] = [];

beforeAll(async () => {
  // Not a TLS server: it notes the first byte a client sends (0x16 opens a TLS handshake) and hangs up.
  server = net.createServer((socket) => {
    socket.once('data', (data) => {
      firstBytes.push(data[0] ?? -1);
      socket.destroy();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  port = (server.address() as AddressInfo).port;
});

afterAll(() => {
  server.close();
});

describe('transport and node:https', () => {
  it('an https URL is still spoken to over TLS (the module loads on first use)', async () => {
    const transport = createTransport();
    const request = transport.request({
      url: `https://127.0.0.1:${port}/chat/completions`,
      headers: { 'content-type': 'application/json' },
      body: '{}',
      signal: AbortSignal.timeout(5000),
    });
    await expect(request).rejects.toThrow();
    transport.close();
    expect(firstBytes).toEqual([0x16]);
  });

  it('importing the library loads neither https nor tls beyond what node:http itself loads', () => {
    // Node 24's node:http loads tls itself; Node 20's does not. The library must add neither.
    const loaded = (module: string) => {
      const script = `await import(${JSON.stringify(module)});
      console.log(process.moduleLoadList.filter((m) => /^NativeModule (https|tls|_tls_wrap)$/.test(m)).join(','));`;
      const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
        encoding: 'utf8',
        timeout: 20_000,
      });
      expect(child.status).toBe(0);
      return child.stdout.trim();
    };
    const library = loaded(DIST_INDEX);
    expect(library).not.toMatch(/https/);
    expect(library).toBe(loaded('node:http'));
  });
});
