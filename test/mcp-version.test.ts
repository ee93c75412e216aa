// `version` reports the protocol version in use with this client, also over stateless HTTP where
// no initialize reached the instance that answers (there the client's MCP-Protocol-Version header).
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../src/emulator/index.js';
import { connectHttpV1, connectStdioV1, type HttpChild, serverEnv, startHttpChild } from './helpers/mcp.js';

let emu: Emulator;
let server: HttpChild;
beforeAll(async () => {
  emu = await startEmulator();
  server = await startHttpChild(serverEnv(emu));
});
afterAll(async () => {
  await server?.stop();
  await emu?.close();
});

/** `version` by a raw stateless POST, as a client of `protocol` sends it. */
function rawVersion(protocol: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      server.url,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': protocol,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (s: string) => {
          text += s;
        });
        res.on('end', () => {
          const line = text.split('\n').find((l) => l.startsWith('data: {'));
          const msg = JSON.parse(line?.slice(6) ?? '{}') as {
            result?: { structuredContent?: { protocolVersion?: string } };
          };
          resolve(msg.result?.structuredContent?.protocolVersion ?? `no version in: ${text}`);
        });
      },
    );
    req.on('error', reject);
    req.end(
      JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: 'version', arguments: {} },
      }),
    );
  });
}

describe('version reports the negotiated protocol', () => {
  it.each(['2025-06-18', '2025-03-26', '2025-11-25'])(
    'over stateless HTTP, for a %s client',
    async (protocol) => {
      expect(await rawVersion(protocol)).toBe(protocol);
    },
  );

  it('for SDK v1 clients over HTTP and stdio: what initialize agreed', async () => {
    for (const conn of [await connectHttpV1(server.url), await connectStdioV1(serverEnv(emu))]) {
      const agreed = (conn.client.transport as { protocolVersion?: string } | undefined)?.protocolVersion;
      const result = await conn.client.callTool({ name: 'version', arguments: {} });
      const reported = (result.structuredContent as { protocolVersion: string }).protocolVersion;
      expect(reported).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      if (agreed) expect(reported).toBe(agreed);
      await conn.close();
    }
  });
});
