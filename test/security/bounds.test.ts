// One set of bounds for temperature and max_tokens: the library checks, the MCP tool schema and the
// CLI options agree, and max_tokens follows the catalog's model limits where it knows them.
import { describe, expect, it } from 'vitest';
import { chatInput } from '../../src/mcp/schemas.js';
import { MODELS } from '../../src/providers/catalog.js';
import { checkRequest, MAX_TOKENS_CEILING, maxTokensFor, TEMPERATURE } from '../../src/request-checks.js';

const ask = (extra: Record<string, unknown>) => ({
  model: 'glm-4.5-flash',
  messages: [{ role: 'user' as const, content: 'x' }],
  ...extra,
});

describe('temperature and max_tokens bounds', () => {
  it('temperature is 0..1 in the library checks and in the MCP schema', () => {
    expect(TEMPERATURE).toEqual({ min: 0, max: 1 });
    expect(() => checkRequest(ask({ temperature: 1 }), 'glm-4.5-flash')).not.toThrow();
    expect(() => checkRequest(ask({ temperature: 1.5 }), 'glm-4.5-flash')).toThrow(
      /temperature must be a number from 0 to 1/,
    );
    expect(() => checkRequest(ask({ temperature: -0.1 }), 'glm-4.5-flash')).toThrow(/temperature/);
    expect(chatInput.safeParse({ prompt: 'x', temperature: 1 }).success).toBe(true);
    expect(chatInput.safeParse({ prompt: 'x', temperature: 1.5 }).success).toBe(false);
  });

  it('max_tokens is bounded by the model (catalog) and by a ceiling for unknown models', () => {
    const glm = MODELS.find((m) => m.id === 'glm-4.5-flash');
    const limit = maxTokensFor('glm-4.5-flash');
    expect(limit).toBeLessThanOrEqual(glm?.contextWindow ?? 0);
    expect(() => checkRequest(ask({ max_tokens: limit }), 'glm-4.5-flash')).not.toThrow();
    expect(() => checkRequest(ask({ max_tokens: limit + 1 }), 'glm-4.5-flash')).toThrow(
      /max_tokens must be a whole number from 1 to/,
    );
    expect(() => checkRequest(ask({ max_completion_tokens: 0 }), 'glm-4.5-flash')).toThrow(
      /max_completion_tokens/,
    );
    expect(maxTokensFor('glm-unknown-9')).toBe(MAX_TOKENS_CEILING);
    expect(chatInput.safeParse({ prompt: 'x', max_tokens: MAX_TOKENS_CEILING + 1 }).success).toBe(false);
    expect(chatInput.safeParse({ prompt: 'x', max_tokens: 10 ** 12 }).success).toBe(false);
  });
});
