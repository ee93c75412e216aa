// Fault matrix, MCP consumer: the built `exai serve` (stdio) `chat` tool with progress, every row ×
// provider × streaming on/off. The joined progress deltas must equal the final answer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../src/emulator/index.js';
import type { ChatResult } from '../src/index.js';
import { FAULT_CASES, MATRIX_ENV } from './faults/cases.js';
import {
  checkOutcome,
  expectedAnswer,
  expectNoOpenSockets,
  MATRIX_MODEL,
  matrixRows,
  type Observed,
  prepareEmulator,
} from './faults/check.js';
import { connectStdio, progressCollector, serverEnv, textOf } from './helpers/mcp.js';
import { TEST_KEY } from './helpers/setup.js';

let emu: Emulator;
beforeAll(async () => {
  emu = await startEmulator();
});
afterAll(async () => {
  await emu.close();
});

interface Structured {
  reasoning?: string;
  finish_reason: string | null;
  usage?: ChatResult['usage'];
  metadata: ChatResult['metadata'];
  error?: ChatResult['error'];
}

describe('fault matrix: MCP', () => {
  it.each(matrixRows(FAULT_CASES, 'mcp'))('%s', async (_name, c, provider, mode, e) => {
    prepareEmulator(emu, c, provider);
    const server = await connectStdio(
      serverEnv(emu, { ...MATRIX_ENV, EXAI_PROGRESS_INTERVAL_MS: '20', ...c.env }),
    );
    const prompt = `matrix ${c.name} ${provider} ${mode}`;
    const progress = progressCollector(server.wire, prompt);
    const controller = new AbortController();
    let contentUpdates = 0;
    const seen: Observed = {};
    try {
      const result = await server.client.callTool(
        { name: 'chat', arguments: { prompt, model: MATRIX_MODEL[provider], stream: mode === 'stream' } },
        {
          signal: controller.signal,
          timeout: 30_000,
          onprogress: (p) => {
            progress.onprogress(p);
            const meta = (p as { _meta?: Record<string, unknown> })._meta;
            if (meta?.['exai/delta'] && ++contentUpdates === c.cancelAfterChunks) controller.abort();
          },
        },
      );
      const sc = (result as { _meta?: Record<string, Structured | undefined> })._meta?.['exai/result'];
      if (result.isError || !sc) seen.error = textOf(result);
      else {
        seen.result = {
          content: textOf(result),
          reasoning: sc.reasoning ?? '',
          toolCalls: [],
          usage: sc.usage ?? null,
          finishReason: sc.finish_reason,
          metadata: sc.metadata,
          ...(sc.error ? { error: sc.error } : {}),
        };
        // The text travels once, as content[0].
        expect(sc).not.toHaveProperty('content');
      }
    } catch (error) {
      seen.error = String(error);
    }
    // Let the last notifications reach the wire tap before comparing.
    await new Promise((r) => setTimeout(r, 20));
    const shown = progress.content();
    if (c.cancelAfterChunks !== undefined) {
      // A cancelled MCP call gets no result (the spec says so): what was shown is a prefix.
      expect(seen.error).toMatch(/abort/i);
      const full = expectedAnswer(prompt, provider, c).content;
      expect(shown.length).toBeGreaterThan(0);
      expect(full.startsWith(shown)).toBe(true);
      expect(shown.length).toBeLessThan(full.length);
    } else {
      if (seen.result) seen.shown = shown;
      checkOutcome(emu, prompt, provider, c, e, seen);
    }
    expect(`${seen.error ?? ''}${server.stderr()}`).not.toContain(TEST_KEY);
    await server.close();
    await expectNoOpenSockets(emu);
  });
});
