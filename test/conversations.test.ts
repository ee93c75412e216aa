// The messages a continuation sends, as pure logic: newest turns first into the context window,
// the oldest dropped, reasoning kept only for thinking models, room left for the answer.
import { describe, expect, it } from 'vitest';
import { estimateTokens, prepareMessages, storableTurn, type Turn } from '../src/mcp/conversations.js';

const turn = (n: number, size = 10): Turn => ({
  user: `q${n} ${'u'.repeat(size)}`,
  assistant: `a${n} ${'a'.repeat(size)}`,
  reasoning: `r${n}`,
});

describe('prepareMessages', () => {
  it('sends system, every earlier turn and the prompt when they fit', () => {
    const p = prepareMessages([turn(1), turn(2)], {
      system: 'sys',
      prompt: 'now',
      model: 'kimi-k2-0905-preview',
    });
    expect(p.messages.map((m) => m.role)).toEqual([
      'system',
      'user',
      'assistant',
      'user',
      'assistant',
      'user',
    ]);
    expect(p.messages.at(-1)).toEqual({ role: 'user', content: 'now' });
    expect(p.history).toEqual({ turns: 2, droppedTurns: 0 });
    // kimi-k2-0905-preview does not reason: no reasoning_content goes back.
    expect(p.messages.some((m) => m.reasoning_content !== undefined)).toBe(false);
  });

  it('keeps reasoning_content on earlier answers of a thinking model', () => {
    const p = prepareMessages([turn(1)], { prompt: 'now', model: 'glm-4.6' });
    expect(p.messages[1]).toEqual({ role: 'assistant', content: turn(1).assistant, reasoning_content: 'r1' });
  });

  it('drops the oldest turns first when the window is full, never the new prompt', () => {
    // A model the catalog does not know: a 32K window, a quarter (8192) kept for the answer; ~4000
    // tokens a turn.
    const turns = Array.from({ length: 10 }, (_, i) => turn(i + 1, 6000));
    const p = prepareMessages(turns, { prompt: 'now', model: 'kimi-test-small' });
    expect(p.history.droppedTurns).toBeGreaterThan(0);
    expect(p.history.turns + p.history.droppedTurns).toBe(10);
    const users = p.messages.filter((m) => m.role === 'user').map((m) => String(m.content).split(' ')[0]);
    expect(users.at(-1)).toBe('now');
    expect(users.slice(0, -1)).toEqual(turns.slice(p.history.droppedTurns).map((t) => t.user.split(' ')[0]));
    const total = p.messages.reduce((n, m) => n + estimateTokens(String(m.content)), 0);
    expect(total).toBeLessThanOrEqual(32_768 - 8192);
  });

  it('leaves max_tokens free for the answer', () => {
    const turns = Array.from({ length: 10 }, (_, i) => turn(i + 1, 6000));
    const roomy = prepareMessages(turns, { prompt: 'now', model: 'kimi-test-small', maxTokens: 100 });
    const tight = prepareMessages(turns, { prompt: 'now', model: 'kimi-test-small', maxTokens: 20_000 });
    expect(roomy.history.turns).toBeGreaterThan(tight.history.turns);
  });

  it('estimates about 3 UTF-8 bytes per token, so CJK text counts more than ASCII', () => {
    expect(estimateTokens('abc')).toBe(1);
    expect(estimateTokens('流式流式')).toBe(4);
  });
});

describe('storableTurn', () => {
  it('stores a turn that some model could carry whole', () => {
    const t = turn(1, 300_000);
    expect(storableTurn(t)).toBe(t);
  });

  it('stores a turn larger than every context window in the catalog as a marker without its text', () => {
    // 10 MB of answer: about 3.5 million tokens, beyond the largest window (1M).
    const big: Turn = { user: 'write a lot', assistant: 'é'.repeat(5 * 1024 * 1024), reasoning: 'r' };
    const stored = storableTurn(big);
    expect(stored).toEqual({ user: '', assistant: '', oversized: true });
    expect(JSON.stringify(stored).length).toBeLessThan(100);
    // A later request drops the marker and every turn before it, exactly as it drops the whole turn.
    for (const model of ['kimi-k2-0905-preview', 'glm-5.3', 'not-in-the-catalog']) {
      const whole = prepareMessages([turn(1), big], { prompt: 'next', model });
      const marked = prepareMessages([turn(1), stored], { prompt: 'next', model });
      expect(marked).toEqual(whole);
      expect(marked.history).toEqual({ turns: 0, droppedTurns: 2 });
      expect(marked.messages).toEqual([{ role: 'user', content: 'next' }]);
    }
    // Turns after it are sent as usual.
    const after = prepareMessages([stored, turn(3)], { prompt: 'next', model: 'kimi-k2-0905-preview' });
    expect(after.history).toEqual({ turns: 1, droppedTurns: 1 });
  });

  it('drops only the reasoning when only the reasoning is too large, and a thinking model still drops the turn', () => {
    const t: Turn = { user: 'q', assistant: 'a short answer', reasoning: 'r'.repeat(4 * 1024 * 1024) };
    const stored = storableTurn(t);
    expect(stored).toEqual({ user: 'q', assistant: 'a short answer', reasoningOversized: true });
    // kimi-k2-0905-preview does not reason: the turn is sent, without reasoning, as before.
    // glm-5.3 reasons: the turn (and all before it) is dropped, as before.
    for (const model of ['kimi-k2-0905-preview', 'glm-5.3']) {
      expect(prepareMessages([turn(1), stored], { prompt: 'next', model })).toEqual(
        prepareMessages([turn(1), t], { prompt: 'next', model }),
      );
    }
    expect(prepareMessages([stored], { prompt: 'next', model: 'kimi-k2-0905-preview' }).history).toEqual({
      turns: 1,
      droppedTurns: 0,
    });
  });
});
