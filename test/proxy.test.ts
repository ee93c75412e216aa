// Upstream requests honour HTTP_PROXY / NO_PROXY (this file owns process.env; vitest isolates files).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, emulatorAnswer, startEmulator } from '../src/emulator/index.js';
import { testClient, user } from './helpers/setup.js';

let emu: Emulator;
let proxy: http.Server;
let proxyURL: string;
const proxied: string[] = [];

beforeAll(async () => {
  emu = await startEmulator();
  // A minimal forward proxy: absolute-form request in, same request out to the origin.
  proxy = http.createServer((req, res) => {
    proxied.push(req.url ?? '');
    const upstream = http.request(req.url ?? '', { method: req.method, headers: req.headers }, (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  proxyURL = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
});

afterAll(async () => {
  delete process.env.HTTP_PROXY;
  delete process.env.NO_PROXY;
  proxy.closeAllConnections();
  await new Promise((r) => proxy.close(r));
  await emu.close();
});

describe('proxy settings', () => {
  it('sends the request through HTTP_PROXY and still streams the exact answer', async () => {
    process.env.HTTP_PROXY = proxyURL;
    delete process.env.NO_PROXY;
    const { client, transport } = testClient(emu, 'glm');
    const messages = user('through the proxy');
    const stream = await client.chat.completions.create({ model: 'glm-4.5-flash', messages, stream: true });
    const result = await stream.finalResult();
    expect(result.content).toBe(emulatorAnswer('glm', { model: 'glm-4.5-flash', messages }).content);
    expect(proxied).toHaveLength(1);
    expect(proxied[0]).toBe(`${emu.baseURL('glm')}/chat/completions`);
    transport.close();
  });

  it('bypasses the proxy for hosts in NO_PROXY', async () => {
    process.env.HTTP_PROXY = proxyURL;
    process.env.NO_PROXY = '127.0.0.1';
    const before = proxied.length;
    const { client, transport } = testClient(emu, 'kimi');
    const stream = await client.chat.completions.create({ messages: user('direct'), stream: true });
    const result = await stream.finalResult();
    expect(result.content.length).toBeGreaterThan(0);
    expect(proxied).toHaveLength(before);
    expect(emu.requests.at(-1)?.path).toMatch(/\/kimi\/v1\/chat\/completions$/);
    transport.close();
  });
});
