// Many concurrent streams on one connection pool: every answer exact, sockets reused, none left open.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, emulatorAnswer, startEmulator } from '../src/emulator/index.js';
import { createTransport, type ProviderName } from '../src/index.js';
import { testClient, user } from './helpers/setup.js';

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator({ paceMs: 2 });
});
afterAll(async () => {
  await emu.close();
});

describe('200 concurrent streams', () => {
  it('all finish with the exact answer and leave no socket open', async () => {
    const transport = createTransport();
    const clients = {
      glm: testClient(emu, 'glm', { transport }).client,
      kimi: testClient(emu, 'kimi', { transport }).client,
    };
    const jobs = Array.from({ length: 200 }, async (_, i) => {
      const provider: ProviderName = i % 2 ? 'kimi' : 'glm';
      const model = provider === 'glm' ? 'glm-4.5-flash' : 'kimi-k2-turbo-preview';
      const messages = user(`stream number ${i}`);
      const stream = await clients[provider].chat.completions.create({ model, messages, stream: true });
      let joined = '';
      for await (const c of stream) joined += c.choices[0]?.delta?.content ?? '';
      const result = await stream.finalResult();
      const expected = emulatorAnswer(provider, { model, messages }).content;
      return joined === expected && result.content === expected && !result.metadata.interrupted;
    });
    const outcomes = await Promise.all(jobs);
    expect(outcomes.filter(Boolean)).toHaveLength(200);
    transport.close();
    await emu.waitForIdle(2000);
    await expect.poll(() => emu.openSockets(), { timeout: 2000 }).toBe(0);
  });

  it('reuses a keep-alive connection between sequential requests', async () => {
    const { client, transport } = testClient(emu, 'glm');
    for (const prompt of ['first', 'second', 'third']) {
      const stream = await client.chat.completions.create({ messages: user(prompt), stream: true });
      await stream.finalResult();
    }
    const ids = emu.requests.slice(-3).map((r) => r.socketId);
    expect(new Set(ids).size).toBe(1);
    transport.close();
  });
});
