// The stats line and the human log line: pure functions, table-driven.
import { describe, expect, it } from 'vitest';
import { humanLine } from '../src/cli/log-sink.js';
import { statsLine } from '../src/cli/stats.js';
import { oneLine } from '../src/cli/terminal.js';
import type { ChatMetadata, ChatResult } from '../src/types.js';

// Cast: fields the contract adds later (requests, providerFinishReason) do not change this line.
const result = (metadata: Partial<ChatMetadata>, extra: Partial<ChatResult> = {}) =>
  ({
    content: 'x',
    reasoning: '',
    toolCalls: [],
    usage: { prompt_tokens: 5, completion_tokens: 40, total_tokens: 45 },
    finishReason: 'stop',
    metadata: {
      provider: 'glm',
      model: 'glm-4.6',
      streamed: true,
      chunks: 41,
      ttftMs: 300,
      durationMs: 1300,
      retries: 0,
      fallback: null,
      recovered: false,
      interrupted: false,
      ...metadata,
    },
    ...extra,
  }) as ChatResult;

describe('statsLine', () => {
  it.each([
    ['streamed', result({}), 'glm-4.6 · ttft 300 ms · 40.0 tok/s · 41 chunks · 1.30 s · streamed'],
    [
      'not streamed: time and tokens only',
      result({ streamed: false, chunks: 0, ttftMs: 1300 }),
      'glm-4.6 · 1.30 s · 40 tokens · not streamed',
    ],
    [
      'a fallback after retries',
      result({
        streamed: false,
        chunks: 0,
        retries: 2,
        fallback: { reason: 'glm API error 503', afterChunks: 0 },
      }),
      'glm-4.6 · 1.30 s · 40 tokens · not streamed · 2 retries · fallback: glm API error 503',
    ],
    [
      'one chunk: no rate',
      result({ chunks: 1, durationMs: 310 }),
      'glm-4.6 · ttft 300 ms · 1 chunks · 0.31 s · streamed',
    ],
    [
      'cut by max_tokens',
      result({}, { finishReason: 'length' }),
      'glm-4.6 · ttft 300 ms · 40.0 tok/s · 41 chunks · 1.30 s · streamed · cut at the token limit (finish_reason length)',
    ],
    [
      'content filter',
      result({}, { finishReason: 'content_filter' }),
      'glm-4.6 · ttft 300 ms · 40.0 tok/s · 41 chunks · 1.30 s · streamed · finish_reason content_filter',
    ],
    [
      'interrupted',
      result({ interrupted: true }, { finishReason: null }),
      'glm-4.6 · ttft 300 ms · 40.0 tok/s · 41 chunks · 1.30 s · streamed · interrupted (no finish reason)',
    ],
    [
      'recovered',
      result({ recovered: true, retries: 1 }),
      'glm-4.6 · ttft 300 ms · 40.0 tok/s · 41 chunks · 1.30 s · streamed · 1 retry · recovered',
    ],
  ])('%s', (_name, r, line) => {
    expect(statsLine(r)).toBe(line);
  });
});

describe('humanLine', () => {
  it('puts the level first, fields in brackets and the reason last', () => {
    const record = {
      time: 't',
      level: 'warn',
      msg: 'retrying',
      provider: 'glm',
      retry: 1,
      reason: 'glm API error 429',
    };
    expect(humanLine(record)).toBe('warning: retrying (provider glm, retry 1): glm API error 429');
    expect(humanLine({ ...record, level: 'info' }, false)).toBe('retrying: glm API error 429');
  });

  it('oneLine flattens whitespace and cuts to the width with an ellipsis', () => {
    expect(oneLine('a\n  b\tc', 10)).toBe('a b c');
    expect(oneLine('abcdefghij', 5)).toBe('abcd…');
  });
});
