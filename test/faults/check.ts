// Runs one fault-matrix row against the emulator and checks a consumer's outcome against it.
import { expect } from 'vitest';
import type { Emulator } from '../../src/emulator/index.js';
import { emulatorAnswer } from '../../src/emulator/index.js';
import type { ChatResult, ProviderName } from '../../src/index.js';
import { type Expectation, type FaultCase, MATRIX_WORDS, type Mode } from './cases.js';

export const MATRIX_MODEL: Record<ProviderName, string> = {
  glm: 'glm-4.5-flash',
  kimi: 'kimi-k2-0905-preview',
};

/** What a consumer ended with: a result (whole or partial) and/or an error message. */
export interface Observed {
  result?: ChatResult;
  /** Text the consumer showed as it arrived (joined deltas, stdout, progress deltas). */
  shown?: string;
  error?: string;
}

export function prepareEmulator(emu: Emulator, c: FaultCase): void {
  emu.reset();
  emu.setOptions({ paceMs: c.paceMs ?? 0, words: MATRIX_WORDS });
  emu.script(c.script);
  emu.setDefaultFault(c.always ?? null);
}

/** Every (row, provider, mode) combination the matrix defines. */
export function matrixRows(cases: FaultCase[]) {
  const rows: Array<[string, FaultCase, ProviderName, Mode, Expectation]> = [];
  for (const c of cases) {
    for (const provider of ['glm', 'kimi'] as const) {
      for (const mode of ['stream', 'nostream'] as const) {
        const e = c.expect[mode];
        if (e) rows.push([`${c.name} · ${provider} · ${mode}`, c, provider, mode, e]);
      }
    }
  }
  return rows;
}

/** The emulator's whole answer to a matrix prompt. */
export function expectedAnswer(prompt: string, provider: ProviderName): string {
  const messages = [{ role: 'user' as const, content: prompt }];
  return emulatorAnswer(provider, { model: MATRIX_MODEL[provider], messages }, { words: MATRIX_WORDS })
    .content;
}

export function checkOutcome(prompt: string, provider: ProviderName, e: Expectation, seen: Observed): void {
  const expected = { content: expectedAnswer(prompt, provider) };
  if (e.result === 'error') {
    expect(seen.result?.content ?? '').toBe('');
    expect(seen.error).toMatch(e.error ?? /./);
    return;
  }
  const r = seen.result;
  expect(r, `no result; error: ${seen.error}`).toBeDefined();
  if (!r) return;
  if (e.result === 'exact') {
    expect(r.content).toBe(expected.content);
    expect(r.metadata.interrupted).toBe(false);
    expect(r.error).toBeUndefined();
  } else {
    expect(r.content.length).toBeGreaterThan(0);
    expect(r.content.length).toBeLessThan(expected.content.length);
    expect(expected.content.startsWith(r.content)).toBe(true);
    expect(r.metadata.interrupted).toBe(true);
    expect(r.error?.message).toMatch(e.error ?? /./);
  }
  // What the consumer showed live is exactly the final answer: nothing lost, nothing twice.
  if (seen.shown !== undefined) expect(seen.shown).toBe(r.content);
  const m = r.metadata;
  if (e.streamed !== undefined) expect(m.streamed).toBe(e.streamed);
  if (e.fallback !== undefined) expect(m.fallback !== null).toBe(e.fallback);
  if (e.recovered !== undefined) expect(m.recovered).toBe(e.recovered);
  if (e.retries !== undefined) expect(m.retries).toBe(e.retries);
  if (e.finishReason !== undefined) expect(r.finishReason).toBe(e.finishReason);
  if (e.minDurationMs !== undefined) expect(m.durationMs).toBeGreaterThanOrEqual(e.minDurationMs);
}

/** No connection to the emulator may outlive the consumer. */
export async function expectNoOpenSockets(emu: Emulator): Promise<void> {
  await emu.waitForIdle(3000);
  await expect.poll(() => emu.openSockets(), { timeout: 3000 }).toBe(0);
}
