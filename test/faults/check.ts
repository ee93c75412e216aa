// Runs one fault-matrix row against the emulator and checks a consumer's outcome against it.
import { expect } from 'vitest';
import type { Emulator } from '../../src/emulator/index.js';
import { emulatorAnswer } from '../../src/emulator/index.js';
import type { ChatResult, ProviderName } from '../../src/index.js';
import {
  type Consumer,
  type Expectation,
  type FaultCase,
  forProvider,
  MATRIX_WORDS,
  type Mode,
} from './cases.js';

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
  /** The thrown error's code and request id, where the consumer sees the error object. */
  code?: string;
  requestId?: string;
}

/** The tool a `tools` row offers: the emulator answers it with a short preamble and one call. */
export const MATRIX_TOOLS = [
  {
    type: 'function' as const,
    function: {
      name: 'get_weather',
      description: 'Current weather for a place',
      parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
    },
  },
];

export function prepareEmulator(emu: Emulator, c: FaultCase, provider: ProviderName): void {
  emu.reset();
  emu.setOptions({ paceMs: c.paceMs ?? 0, words: MATRIX_WORDS });
  emu.script(forProvider(c.script, provider));
  emu.setDefaultFault(c.always ? forProvider(c.always, provider) : null);
}

/** Every (row, provider, mode) combination the matrix defines for this consumer. */
export function matrixRows(cases: FaultCase[], consumer: Consumer) {
  const rows: Array<[string, FaultCase, ProviderName, Mode, Expectation]> = [];
  for (const c of cases) {
    if (c.consumers && !c.consumers.includes(consumer)) continue;
    for (const provider of ['glm', 'kimi'] as const) {
      for (const mode of ['stream', 'nostream'] as const) {
        const e = c.expect[mode];
        if (e) rows.push([`${c.name} · ${provider} · ${mode}`, c, provider, mode, e]);
      }
    }
  }
  return rows;
}

/** The request a matrix row sends. */
export function matrixRequest(c: FaultCase, prompt: string, provider: ProviderName) {
  return {
    model: MATRIX_MODEL[provider],
    messages: [{ role: 'user' as const, content: prompt }],
    // GLM tool calls as exai asks for them on every model that has tool_stream: argument pieces, so a
    // stream can break inside a call. glm-4.5-flash predates tool_stream, so the row asks explicitly.
    ...(c.tools ? { tools: MATRIX_TOOLS, ...(provider === 'glm' ? { tool_stream: true } : {}) } : {}),
  };
}

/** The emulator's whole answer to a matrix prompt (content as shown, and tool calls). */
export function expectedAnswer(prompt: string, provider: ProviderName, c?: FaultCase) {
  const request = c ? matrixRequest(c, prompt, provider) : matrixRequest({} as FaultCase, prompt, provider);
  const answer = emulatorAnswer(provider, request, { words: MATRIX_WORDS });
  return { content: (c?.leading ?? '') + answer.content, toolCalls: answer.toolCalls };
}

const chatRequests = (emu: Emulator) => emu.requests.filter((r) => r.path.endsWith('/chat/completions'));

export function checkOutcome(
  emu: Emulator,
  prompt: string,
  provider: ProviderName,
  c: FaultCase,
  e: Expectation,
  seen: Observed,
): void {
  const expected = expectedAnswer(prompt, provider, c);
  // Every request counts, whatever the consumer saw.
  expect(chatRequests(emu).length, 'requests the emulator received').toBe(e.requests);
  if (c.noPrefill) {
    for (const r of chatRequests(emu)) {
      const messages = (r.body?.messages ?? []) as Array<{ role: string }>;
      expect(messages.at(-1)?.role, 'no assistant prefill').toBe('user');
    }
  }
  if (e.result === 'error') {
    expect(seen.result?.content ?? '').toBe('');
    expect(seen.error).toMatch(e.error ? forProvider(e.error, provider) : /./);
    if (seen.code !== undefined && e.code) expect(seen.code).toBe(forProvider(e.code, provider));
    if (seen.code !== undefined && e.requestId) {
      expect(seen.requestId).toMatch(forProvider(e.requestId, provider));
    }
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
    if (e.result === 'prefix') expect(r.content.length).toBeLessThan(expected.content.length);
    expect(expected.content.startsWith(r.content)).toBe(true);
    expect(r.metadata.interrupted).toBe(true);
    expect(r.error?.message).toMatch(e.error ? forProvider(e.error, provider) : /./);
  }
  if (e.toolCall === true) expect(r.toolCalls).toEqual(expected.toolCalls);
  if (e.toolCall === false) expect(r.toolCalls).toEqual([]);
  // What the consumer showed live is exactly the final answer: nothing lost, nothing twice.
  if (seen.shown !== undefined) expect(seen.shown).toBe(r.content);
  const m = r.metadata;
  expect(m.requests, 'metadata.requests').toBe(e.requests);
  expect(m.retries, 'metadata.retries: requests beyond the first').toBe(e.requests - 1);
  if (e.streamed !== undefined) expect(m.streamed).toBe(e.streamed);
  if (e.fallback !== undefined) {
    if (e.fallback instanceof RegExp) expect(m.fallback?.reason).toMatch(e.fallback);
    else expect(m.fallback !== null).toBe(e.fallback);
  }
  if (e.recovered !== undefined) expect(m.recovered).toBe(e.recovered);
  if (e.finishReason !== undefined) expect(r.finishReason).toBe(e.finishReason);
  if (e.minDurationMs !== undefined) expect(m.durationMs).toBeGreaterThanOrEqual(e.minDurationMs);
}

/** No connection to the emulator may outlive the consumer. */
export async function expectNoOpenSockets(emu: Emulator): Promise<void> {
  await emu.waitForIdle(3000);
  await expect.poll(() => emu.openSockets(), { timeout: 3000 }).toBe(0);
}
