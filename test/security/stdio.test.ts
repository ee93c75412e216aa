// Probes of `exai serve` on stdio: oversized, malformed and hostile lines get an error reply and the
// server keeps serving; a closed stdout ends the server cleanly.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../../src/emulator/index.js';
import { MAX_MESSAGE_BYTES } from '../../src/mcp/limits.js';
import { answerFor, serverEnv } from '../helpers/mcp.js';
import { INIT, type RawStdio, spawnStdio } from './helpers.js';

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator({ paceMs: 0 });
});
afterAll(async () => {
  await emu.close();
});

async function initialized(env: Record<string, string> = {}): Promise<RawStdio> {
  const s = spawnStdio(serverEnv(emu, env));
  await s.send(INIT);
  await s.next((l) => l.id === 'init');
  await s.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  return s;
}

const chatCall = (id: number | string, prompt: string) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name: 'chat', arguments: { prompt, model: 'glm-4.5-flash' } },
});

describe('exai serve (stdio): hostile input', () => {
  it('a 20 MB line then a valid request: an error reply (id null), then a normal answer', async () => {
    const s = spawnStdio(serverEnv(emu));
    try {
      const big = Buffer.alloc(20 * 1024 * 1024, 'a');
      await s.write(Buffer.concat([Buffer.from('{"jsonrpc":"2.0","id":7,"method":"x","params":"'), big]));
      await s.write('"}\n');
      const refused = await s.next((l) => 'error' in l);
      expect(refused).toMatchObject({ id: null, error: { message: expect.stringMatching(/larger than/) } });
      expect(String((refused.error as { message: string }).message)).toContain(String(MAX_MESSAGE_BYTES));
      await s.send(INIT);
      await s.next((l) => l.id === 'init' && 'result' in l);
      await s.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
      await s.send(chatCall(1, 'after the flood'));
      const answer = await s.next((l) => l.id === 1);
      const text = (answer.result as { content: Array<{ text: string }> }).content[0]?.text;
      expect(text).toBe(answerFor('glm', 'glm-4.5-flash', 'after the flood').content);
      expect(s.child.exitCode).toBeNull();
    } finally {
      await s.stop();
    }
  });

  it.each([
    ['a line that is not JSON', 'this is not json', -32700, null],
    ['a JSON value that is not JSON-RPC', '{"hello":1}', -32600, null],
    ['a request with a bad jsonrpc version', '{"jsonrpc":"1.0","id":5,"method":"tools/list"}', -32600, 5],
    ['a batch', '[{"jsonrpc":"2.0","id":6,"method":"tools/list"}]', -32600, null],
    ['JSON nested 100k levels deep', `${'['.repeat(100_000)}${']'.repeat(100_000)}`, -32600, null],
  ])('%s gets an error reply and the server keeps serving', async (_what, line, code, id) => {
    const s = await initialized();
    try {
      await s.write(`${line}\n`);
      const reply = await s.next((l) => 'error' in l);
      expect(reply).toMatchObject({ jsonrpc: '2.0', id, error: { code } });
      await s.send({ jsonrpc: '2.0', id: 'list', method: 'tools/list' });
      const list = await s.next((l) => l.id === 'list');
      expect(JSON.stringify(list.result)).toContain('"chat"');
    } finally {
      await s.stop();
    }
  });

  it('a closed stdout ends the server with exit code 0', async () => {
    const s = await initialized();
    s.child.stdout?.destroy();
    // The next write to stdout meets EPIPE.
    await s.send({ jsonrpc: '2.0', id: 'list', method: 'tools/list' }).catch(() => {});
    const code = await Promise.race([
      s.exited,
      new Promise((r) => setTimeout(() => r('still running'), 5000)),
    ]);
    expect(code).toBe(0);
    expect(s.stderr()).not.toMatch(/Error: write EPIPE|Unhandled|at .*\.js:\d+/);
  });

  it('a closed stdin ends the server with exit code 0', async () => {
    const s = await initialized();
    s.child.stdin?.end();
    expect(await s.exited).toBe(0);
  });
});

describe('exai serve (stdio): EXAI_MAX_CONCURRENT_CALLS', () => {
  it('refuses a call beyond the limit at once with a retryable JSON-RPC error, then accepts again', async () => {
    emu.setOptions({ paceMs: 20 });
    const s = await initialized({ EXAI_MAX_CONCURRENT_CALLS: '2' });
    try {
      await s.send(chatCall(1, 'slow one'));
      await s.send(chatCall(2, 'slow two'));
      const sentAt = performance.now();
      await s.send(chatCall(3, 'one too many'));
      const refused = await s.next((l) => l.id === 3);
      expect(performance.now() - sentAt).toBeLessThan(1000);
      expect(refused).toMatchObject({
        error: {
          code: -32029,
          message: expect.stringMatching(/busy.*EXAI_MAX_CONCURRENT_CALLS=2.*retry/),
          data: { retryable: true },
        },
      });
      await s.next((l) => l.id === 1, 20_000);
      await s.send(chatCall(4, 'after one finished'));
      const accepted = await s.next((l) => l.id === 4, 20_000);
      expect(accepted.result).toBeDefined();
    } finally {
      emu.setOptions({ paceMs: 0 });
      await s.stop();
    }
  });
});
