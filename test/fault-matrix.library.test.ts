// Fault matrix, library consumer: every row × provider × streaming on/off through `for await`.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../src/emulator/index.js';
import { APIError, createClient, createTransport, loadConfig } from '../src/index.js';
import { FAULT_CASES, MATRIX_ENV } from './faults/cases.js';
import {
  checkOutcome,
  expectNoOpenSockets,
  matrixRequest,
  matrixRows,
  type Observed,
  prepareEmulator,
} from './faults/check.js';
import { testEnv } from './helpers/setup.js';

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator();
});
afterAll(async () => {
  await emu.close();
});

describe('fault matrix: library', () => {
  it.each(matrixRows(FAULT_CASES, 'library'))('%s', async (_name, c, provider, mode, e) => {
    prepareEmulator(emu, c, provider);
    const transport = createTransport();
    const config = loadConfig({ env: testEnv(emu, { ...MATRIX_ENV, ...c.env }), dotenvDir: false });
    const client = createClient(provider, { config, transport, streamEnabled: mode === 'stream' });
    const prompt = `matrix ${c.name} ${provider} ${mode}`;
    const controller = new AbortController();
    const seen: Observed = {};
    try {
      const stream = await client.chat.completions.create(
        { ...matrixRequest(c, prompt, provider), stream: true },
        { signal: controller.signal },
      );
      let shown = '';
      let contentChunks = 0;
      try {
        for await (const chunk of stream) {
          const text = chunk.choices[0]?.delta?.content ?? '';
          shown += text;
          if (text && ++contentChunks === c.cancelAfterChunks) controller.abort();
        }
      } catch (error) {
        seen.error = String(error);
      }
      seen.shown = shown;
      seen.result = await stream.finalResult();
    } catch (error) {
      seen.error = String(error);
      if (error instanceof APIError) {
        seen.code = error.code;
        seen.requestId = error.requestId;
        // Retried means the call made other requests before it gave up with this error.
        expect(error.retried).toBe(e.requests > 1);
      }
    }
    checkOutcome(emu, prompt, provider, c, e, seen);
    expect(String(seen.error ?? '')).not.toContain('SECRET');
    transport.close();
    await expectNoOpenSockets(emu);
  });
});
