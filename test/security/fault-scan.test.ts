// No secret in any output across the whole fault matrix: every row, both providers, both modes,
// with every provider error body echoing the API key and the bearer token (as a misbehaving
// gateway would). Scanned: library results, errors and debug logs; the MCP server's raw SSE
// responses (progress, results, metadata such as fallback.reason), its debug log and /metrics.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FaultSpec } from '../../src/emulator/index.js';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import { createLogger } from '../../src/log.js';
import { FAULT_CASES, type FaultCase, forProvider, MATRIX_ENV } from '../faults/cases.js';
import { MATRIX_MODEL, matrixRows, prepareEmulator } from '../faults/check.js';
import { type HttpChild, serverEnv, startHttpChild } from '../helpers/mcp.js';
import { TEST_KEY, testClient } from '../helpers/setup.js';

const TOKEN = 'scan-token-SECRET-0123456789abcdefghij';
const ECHO = `upstream said: key ${TEST_KEY} (Authorization: Bearer ${TEST_KEY}); proxy token ${TOKEN}`;

/** The row's faults with every status fault's body echoing the secrets, in the provider's shape. */
function echoing(c: FaultCase, provider: 'glm' | 'kimi'): FaultCase {
  const body =
    provider === 'glm'
      ? { error: { code: '1214', message: ECHO } }
      : { error: { message: ECHO, type: 'invalid_request_error' } };
  const echo = (f: FaultSpec): FaultSpec =>
    f.type === 'status' ? { ...f, body } : f.type === 'error-frame' ? { ...f, message: ECHO } : f;
  const script = forProvider(c.script, provider).map((f) => (f ? echo(f) : f));
  const always = c.always ? forProvider(c.always, provider) : undefined;
  return { ...c, script, ...(always ? { always: echo(always) } : {}) };
}

/**
 * Extra rows where the provider's words travel into metadata (fallback.reason) and errors. The scan
 * asserts only that no secret is printed; request counts are the fault matrix's to check.
 */
const LEAK_CASES: FaultCase[] = [
  {
    name: 'streaming refused with a message quoting the key',
    script: [],
    expect: { stream: { result: 'exact', requests: 0, sees: '' } },
  },
  {
    name: '401 quoting the key',
    script: [{ type: 'status', status: 401 }],
    expect: {
      stream: { result: 'error', requests: 1, sees: '' },
      nostream: { result: 'error', requests: 1, sees: '' },
    },
  },
];

function refusedBody(provider: 'glm' | 'kimi') {
  const message = `this model does not support streaming (key ${TEST_KEY} / token ${TOKEN})`;
  return provider === 'glm'
    ? { error: { code: '1214', message } }
    : { error: { message, type: 'invalid_request_error' } };
}

const LIBRARY_ROWS = matrixRows([...FAULT_CASES, ...LEAK_CASES], 'library');
const MCP_ROWS = matrixRows([...FAULT_CASES, ...LEAK_CASES], 'mcp');

function expectClean(what: string, text: string) {
  expect(text.includes(TEST_KEY), `${what} contains the API key`).toBe(false);
  expect(text.includes(TOKEN), `${what} contains the bearer token`).toBe(false);
}

let emu: Emulator;
let server: HttpChild;
beforeAll(async () => {
  emu = await startEmulator();
  server = await startHttpChild(
    serverEnv(emu, { ...MATRIX_ENV, EXAI_HTTP_TOKEN: TOKEN, EXAI_PROGRESS_INTERVAL_MS: '20' }),
  );
});
afterAll(async () => {
  await server?.stop();
  await emu?.close();
});

function prepare(c: FaultCase, provider: 'glm' | 'kimi') {
  const row = echoing(c, provider);
  if (c.name.startsWith('streaming refused')) {
    // Every streaming request is refused (a 400 saying streaming is not supported) with words that
    // echo the secrets: the runner falls back to a non-streaming request and fallback.reason quotes them.
    row.script = [];
    row.always = { type: 'status', status: 400, onlyStream: true, body: refusedBody(provider) };
  }
  // Cancellation rows run to the end here: what matters is what they print.
  prepareEmulator(emu, { ...row, paceMs: 0 }, provider);
}

function mcpCall(prompt: string, model: string, stream: boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      new URL('/mcp', server.url),
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/json, text/event-stream',
          'mcp-protocol-version': '2025-06-18',
          authorization: `Bearer ${TOKEN}`,
        },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (d: string) => {
          body += d;
        });
        res.on('end', () => resolve(body));
      },
    );
    req.on('error', reject);
    req.end(
      JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'tools/call',
        params: { name: 'chat', arguments: { prompt, model, stream }, _meta: { progressToken: 'scan' } },
      }),
    );
  });
}

describe('no key or token in any output of the fault matrix', () => {
  it.each(LIBRARY_ROWS)('library: %s', async (_name, c, provider, mode) => {
    prepare(c, provider);
    const lines: string[] = [];
    const logger = createLogger('debug', (l) => lines.push(l));
    const { client, transport } = testClient(emu, provider, { logger, env: MATRIX_ENV });
    const outputs: string[] = [];
    try {
      const stream = await client.chat.completions.create({
        model: MATRIX_MODEL[provider],
        messages: [{ role: 'user', content: `scan ${c.name}` }],
        stream: mode === 'stream',
      });
      outputs.push(JSON.stringify(await (stream as { finalResult(): Promise<unknown> }).finalResult()));
    } catch (error) {
      const e = error as Error;
      outputs.push(e.message, String(e.stack), JSON.stringify(e));
    } finally {
      transport.close();
    }
    // The library never sees the HTTP token (the server's): the key is what it must keep out.
    expect(outputs.join('\n').includes(TEST_KEY), 'library output contains the API key').toBe(false);
    expect(lines.join('').includes(TEST_KEY), 'library log contains the API key').toBe(false);
  });

  it.each(MCP_ROWS)('MCP over HTTP: %s', async (_name, c, provider, mode) => {
    prepare(c, provider);
    const before = server.stderr().length;
    const sse = await mcpCall(`scan ${c.name}`, MATRIX_MODEL[provider], mode === 'stream');
    expect(sse).toMatch(/"result"|"error"/);
    expectClean('MCP response (progress and result)', sse);
    expectClean('server log', server.stderr().slice(before));
  });

  it('the fallback reason of a refused stream quotes the provider, redacted', async () => {
    prepare(LEAK_CASES[0] as FaultCase, 'kimi');
    const sse = await mcpCall('scan fallback', MATRIX_MODEL.kimi, true);
    expect(sse).toMatch(
      /"fallback":\{"reason":"[^}]*does not support streaming \(key \[redacted\] \/ token \[redacted\]\)/,
    );
  });

  it('/metrics and the whole server log', async () => {
    const metrics = await new Promise<string>((resolve, reject) => {
      http
        .get(new URL('/metrics', server.url), { headers: { authorization: `Bearer ${TOKEN}` } }, (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (d: string) => {
            body += d;
          });
          res.on('end', () => resolve(body));
        })
        .on('error', reject);
    });
    expect(metrics).toContain('exai_requests_total');
    expectClean('/metrics', metrics);
    expectClean('server log', server.stderr());
  });
});
