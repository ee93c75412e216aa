// The aggregator folds chunks into one answer: text, reasoning, tool calls by index, usage, finish reason;
// and truncateUtf8, which the runner applies to a delta before it reaches the aggregator.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { glm } from '../src/providers/glm.js';
import { kimi } from '../src/providers/kimi.js';
import { isErrorFrame } from '../src/providers/provider.js';
import { Aggregator } from '../src/streaming/aggregator.js';
import { truncateUtf8 } from '../src/streaming/limit.js';
import type { ChatCompletionChunk, ChunkChoice, ChunkDelta, ToolCall, Usage } from '../src/types.js';
import { fixturePayloads, WIRE_FIXTURES } from './fixtures/wire.js';

/** One chunk with a single choice at index 0 (the shape exai asks for). */
function chunk(delta: ChunkDelta, extra: Partial<ChunkChoice> = {}, usage?: Usage): ChatCompletionChunk {
  return {
    id: 'chatcmpl-1',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'm',
    choices: [{ index: 0, delta, finish_reason: null, ...extra }],
    ...(usage ? { usage } : {}),
  };
}

const usage = (prompt: number, completion: number): Usage => ({
  prompt_tokens: prompt,
  completion_tokens: completion,
  total_tokens: prompt + completion,
});

function aggregate(chunks: ChatCompletionChunk[]): Aggregator {
  const agg = new Aggregator();
  for (const c of chunks) agg.add(c);
  return agg;
}

describe('Aggregator text', () => {
  it('concatenates content deltas in order', () => {
    const agg = aggregate([chunk({ content: 'Hel' }), chunk({ content: 'lo' }), chunk({ content: '!' })]);
    expect(agg.content).toBe('Hello!');
    expect(agg.contentLength).toBe(6);
  });

  it('keeps reasoning apart from content', () => {
    const agg = aggregate([
      chunk({ role: 'assistant', content: '', reasoning_content: '\n' }),
      chunk({ reasoning_content: 'Think' }),
      chunk({ content: 'Answer' }),
      chunk({ reasoning_content: ' more' }),
    ]);
    expect(agg.reasoning).toBe('\nThink more');
    expect(agg.reasoningLength).toBe(11);
    expect(agg.content).toBe('Answer');
  });

  it('starts empty', () => {
    const agg = new Aggregator();
    expect([agg.content, agg.reasoning, agg.toolCalls, agg.usage, agg.finishReason]).toEqual([
      '',
      '',
      [],
      null,
      null,
    ]);
    expect(agg.hasToolCalls).toBe(false);
  });

  it('keeps adding correctly after the content has been read', () => {
    const agg = aggregate([chunk({ content: 'a' }), chunk({ content: 'b' })]);
    expect(agg.content).toBe('ab');
    agg.add(chunk({ content: 'c' }));
    expect(agg.content).toBe('abc');
    expect(agg.content).toBe('abc');
    agg.add(chunk({ reasoning_content: 'x' }));
    expect(agg.reasoning).toBe('x');
    agg.add(chunk({ reasoning_content: 'y' }));
    expect(agg.reasoning).toBe('xy');
  });

  it.each([
    { name: 'a content delta', delta: { content: 'a' }, token: true },
    { name: 'a reasoning delta', delta: { reasoning_content: 'r' }, token: true },
    {
      name: 'a tool-call delta',
      delta: { tool_calls: [{ index: 0, function: { arguments: '{' } }] },
      token: true,
    },
    { name: 'a role-only delta', delta: { role: 'assistant' as const }, token: false },
    { name: 'an empty content delta', delta: { role: 'assistant' as const, content: '' }, token: false },
    { name: 'a null content delta', delta: { content: null, reasoning_content: null }, token: false },
    { name: 'an empty delta', delta: {}, token: false },
  ])('reports whether $name carried a token ($token)', ({ delta, token }) => {
    expect(new Aggregator().add(chunk(delta))).toBe(token);
  });

  it('reports a finish-and-usage chunk as carrying no token', () => {
    expect(new Aggregator().add(chunk({}, { finish_reason: 'stop' }, usage(1, 2)))).toBe(false);
  });
});

describe('Aggregator tool calls', () => {
  it('assembles Kimi arguments fragmented over many deltas (K3 shape)', () => {
    const agg = aggregate([
      chunk({ role: 'assistant', content: '' }),
      chunk({
        tool_calls: [
          { index: 0, id: 'functions.add:0', type: 'function', function: { name: 'add', arguments: '' } },
        ],
      }),
      ...['{"', 'a', '":', ' ', '2', ',', ' "b": 3}'].map((arguments_) =>
        chunk({ tool_calls: [{ index: 0, function: { arguments: arguments_ } }] }),
      ),
      chunk({}, { finish_reason: 'tool_calls' }),
    ]);
    expect(agg.toolCalls).toEqual([
      { id: 'functions.add:0', type: 'function', function: { name: 'add', arguments: '{"a": 2, "b": 3}' } },
    ]);
    expect(agg.hasToolCalls).toBe(true);
    expect(agg.finishReason).toBe('tool_calls');
  });

  it('takes a GLM call that arrives whole in one delta', () => {
    const call = {
      id: 'call_6bc2e48a34f34e80995b40d2',
      index: 0,
      type: 'function' as const,
      function: { name: 'weather', arguments: '{"location":"Florence,Italy"}' },
    };
    const agg = aggregate([chunk({ tool_calls: [call] })]);
    expect(agg.toolCalls).toEqual([
      {
        id: 'call_6bc2e48a34f34e80995b40d2',
        type: 'function',
        function: { name: 'weather', arguments: '{"location":"Florence,Italy"}' },
      },
    ]);
  });

  it('keeps parallel calls apart by index and returns them in index order', () => {
    const agg = aggregate([
      chunk({ tool_calls: [{ index: 1, id: 'call_b', function: { name: 'multiply', arguments: '{"a":' } }] }),
      chunk({ tool_calls: [{ index: 0, id: 'call_a', function: { name: 'add', arguments: '{"a":' } }] }),
      chunk({ tool_calls: [{ index: 1, function: { arguments: '2}' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '1}' } }] }),
    ]);
    expect(agg.toolCalls.map((c) => [c.id, c.function.name, c.function.arguments])).toEqual([
      ['call_a', 'add', '{"a":1}'],
      ['call_b', 'multiply', '{"a":2}'],
    ]);
  });

  it('takes two calls given in the same delta', () => {
    const agg = aggregate([
      chunk({
        tool_calls: [
          { index: 0, id: 'a', function: { name: 'f', arguments: '{}' } },
          { index: 1, id: 'b', function: { name: 'g', arguments: '[]' } },
        ],
      }),
    ]);
    expect(agg.toolCalls.map((c) => c.function)).toEqual([
      { name: 'f', arguments: '{}' },
      { name: 'g', arguments: '[]' },
    ]);
  });

  it.each([
    { name: 'given once', names: ['get_weather', undefined, undefined], expected: 'get_weather' },
    { name: 'repeated whole on every delta', names: ['get_weather', 'get_weather'], expected: 'get_weather' },
    { name: 'streamed in pieces', names: ['get_', 'weather'], expected: 'get_weather' },
  ])('builds the function name when it is $name', ({ names, expected }) => {
    const agg = aggregate(
      names.map((name) => chunk({ tool_calls: [{ index: 0, function: { name, arguments: 'x' } }] })),
    );
    expect(agg.toolCalls[0]?.function).toEqual({ name: expected, arguments: 'x'.repeat(names.length) });
  });

  it('keeps the id of the first delta when later deltas have none', () => {
    const agg = aggregate([
      chunk({ tool_calls: [{ index: 0, id: 'call_1', function: { name: 'f', arguments: '' } }] }),
      chunk({ tool_calls: [{ index: 0, function: { arguments: '{}' } }] }),
    ]);
    expect(agg.toolCalls[0]?.id).toBe('call_1');
  });

  it('treats a delta without an index as index 0', () => {
    const agg = aggregate([
      chunk({ tool_calls: [{ index: 0, id: 'c', function: { name: 'f', arguments: '{' } }] }),
      chunk({ tool_calls: [{ function: { arguments: '}' } } as never] }),
    ]);
    expect(agg.toolCalls.map((c) => c.function.arguments)).toEqual(['{}']);
  });
});

describe('Aggregator usage, finish reason and envelope', () => {
  it('takes top-level usage from the final chunk', () => {
    const agg = aggregate([chunk({ content: 'x' }), chunk({}, { finish_reason: 'stop' }, usage(16, 145))]);
    expect(agg.usage).toEqual(usage(16, 145));
  });

  it('does not forget usage when a later chunk has none', () => {
    const agg = aggregate([chunk({}, {}, usage(1, 1)), chunk({ content: 'late' })]);
    expect(agg.usage).toEqual(usage(1, 1));
  });

  it('lets the last finish_reason win when it is repeated on two chunks (GLM 2025-09 quirk)', () => {
    const agg = aggregate([
      chunk(
        { tool_calls: [{ index: 0, id: 'c', function: { name: 'f', arguments: '{}' } }] },
        { finish_reason: 'tool_calls' },
      ),
      chunk({ role: 'assistant', content: '' }, { finish_reason: 'tool_calls' }, usage(2, 3)),
    ]);
    expect(agg.finishReason).toBe('tool_calls');
    const changed = aggregate([chunk({}, { finish_reason: 'stop' }), chunk({}, { finish_reason: 'length' })]);
    expect(changed.finishReason).toBe('length');
  });

  it('does not clear a finish_reason with a later null', () => {
    const agg = aggregate([chunk({}, { finish_reason: 'stop' }), chunk({ content: '' })]);
    expect(agg.finishReason).toBe('stop');
  });

  it('ignores choices with a non-zero index entirely', () => {
    const other: ChunkChoice = {
      index: 1,
      delta: {
        content: 'other',
        reasoning_content: 'other',
        tool_calls: [{ index: 0, id: 'x', function: { name: 'x', arguments: 'x' } }],
      },
      finish_reason: 'length',
    };
    const mine: ChunkChoice = { index: 0, delta: { content: 'mine' }, finish_reason: null };
    const c = chunk({});
    c.choices = [other, mine];
    const agg = new Aggregator();
    expect(agg.add(c)).toBe(true);
    expect([agg.content, agg.reasoning, agg.toolCalls, agg.finishReason]).toEqual(['mine', '', [], null]);
    const onlyOther = chunk({});
    onlyOther.choices = [other];
    expect(new Aggregator().add(onlyOther)).toBe(false);
  });

  it('treats a choice without an index as choice 0', () => {
    const c = chunk({});
    c.choices = [{ delta: { content: 'x' }, finish_reason: 'stop' } as ChunkChoice];
    const agg = aggregate([c]);
    expect([agg.content, agg.finishReason]).toEqual(['x', 'stop']);
  });

  it('keeps the first id and created, and the latest model', () => {
    const a = { ...chunk({ content: 'a' }), id: 'first', created: 10, model: 'glm-4.5' };
    const b = { ...chunk({ content: 'b' }), id: 'second', created: 20, model: 'glm-4.6' };
    const agg = aggregate([a, b]);
    expect([agg.id, agg.created, agg.model]).toEqual(['first', 10, 'glm-4.6']);
  });
});

describe('Aggregator properties', () => {
  /** Cuts `text` at the given offsets into consecutive pieces (some possibly empty). */
  const pieces = (text: string, cuts: number[]) => {
    const points = [...cuts.map((c) => c % (text.length + 1)), text.length].sort((a, b) => a - b);
    let start = 0;
    return points.map((p) => {
      const piece = text.slice(start, p);
      start = p;
      return piece;
    });
  };
  const anyText = fc.string({ unit: 'binary' });
  const cuts = fc.array(fc.nat(), { maxLength: 20 });

  it('aggregates any split of a content string into deltas to that string', () => {
    fc.assert(
      fc.property(anyText, cuts, (text, cutPoints) => {
        const agg = aggregate(pieces(text, cutPoints).map((content) => chunk({ content })));
        expect(agg.content).toBe(text);
        expect(agg.contentLength).toBe(text.length);
      }),
    );
  });

  it('keeps content and reasoning apart however their deltas interleave', () => {
    fc.assert(
      fc.property(anyText, cuts, anyText, cuts, fc.array(fc.boolean()), (c, cc, r, rc, order) => {
        const contentDeltas = pieces(c, cc).map((content) => chunk({ content }));
        const reasoningDeltas = pieces(r, rc).map((reasoning_content) => chunk({ reasoning_content }));
        const merged: ChatCompletionChunk[] = [];
        let [ci, ri, k] = [0, 0, 0];
        while (ci < contentDeltas.length || ri < reasoningDeltas.length) {
          const pickReasoning =
            ri < reasoningDeltas.length && (ci >= contentDeltas.length || order[k++] === true);
          merged.push((pickReasoning ? reasoningDeltas[ri++] : contentDeltas[ci++]) as ChatCompletionChunk);
        }
        const agg = aggregate(merged);
        expect([agg.content, agg.reasoning]).toEqual([c, r]);
      }),
    );
  });

  it('assembles any split of tool-call arguments, for any number of parallel calls', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.string({ minLength: 1 }), anyText, cuts), { minLength: 1, maxLength: 4 }),
        (calls) => {
          const chunks = calls.flatMap(([name, args, cutPoints], index) => [
            chunk({ tool_calls: [{ index, id: `call_${index}`, type: 'function', function: { name } }] }),
            ...pieces(args, cutPoints).map((a) =>
              chunk({ tool_calls: [{ index, function: { arguments: a } }] }),
            ),
          ]);
          const expected: ToolCall[] = calls.map(([name, args], index) => ({
            id: `call_${index}`,
            type: 'function',
            function: { name, arguments: args },
          }));
          expect(aggregate(chunks).toolCalls).toEqual(expected);
        },
      ),
    );
  });
});

describe('Aggregator on real provider streams', () => {
  const expected: Record<string, object> = {
    G1: {
      content: 'Oi.',
      reasoning: '\nThe person',
      toolCalls: [],
      finishReason: 'stop',
      usage: {
        prompt_tokens: 16,
        completion_tokens: 145,
        total_tokens: 161,
        prompt_tokens_details: { cached_tokens: 6 },
      },
      model: 'glm-4.5',
      id: '20251111175621ea00b15bd30046c2',
    },
    G2: {
      content: "\nI'll add and multiply the numbers 2 and 3 for you.\n",
      reasoning: '',
      toolCalls: [
        {
          id: 'call_4be9c6251abb4f3fbc1956bd',
          type: 'function',
          function: { name: 'add', arguments: '{"a":2,"b":3}' },
        },
        {
          id: 'call_29207bee5b434b86830450d2',
          type: 'function',
          function: { name: 'multiply', arguments: '{"a":2,"b":3}' },
        },
      ],
      finishReason: 'tool_calls',
      usage: {
        prompt_tokens: 282,
        completion_tokens: 145,
        total_tokens: 427,
        prompt_tokens_details: { cached_tokens: 258 },
      },
      model: 'glm-4.5',
      id: '20251111175650c48a4928f3614935',
    },
    G3: {
      content: '',
      reasoning: 'The',
      toolCalls: [],
      finishReason: 'tool_calls',
      usage: {
        prompt_tokens: 173,
        completion_tokens: 87,
        total_tokens: 260,
        prompt_tokens_details: { cached_tokens: 172 },
        completion_tokens_details: { reasoning_tokens: 63 },
      },
      model: 'glm-4.7-flash',
      id: '202603130505331e1698c2b13a4e98',
    },
    G4: {
      content: '',
      reasoning: 'Need weather.',
      toolCalls: [
        {
          id: 'call_0123456789abcdef01234567',
          type: 'function',
          function: { name: 'get_weather', arguments: '{"location":"Beijing"}' },
        },
      ],
      finishReason: 'tool_calls',
      usage: { prompt_tokens: 120, completion_tokens: 30, total_tokens: 150 },
      model: 'glm-4.6',
      id: '2025111118000000aaaaaaaaaaaaaa',
    },
    K1: {
      content: '你好',
      reasoning: '',
      toolCalls: [],
      finishReason: 'stop',
      usage: { prompt_tokens: 19, completion_tokens: 13, total_tokens: 32 },
      model: 'kimi-k2-turbo-preview',
      id: 'cmpl-1305b94c570f447fbde3180560736287',
    },
    K2: {
      content: 'I can',
      reasoning: '',
      toolCalls: [],
      finishReason: 'stop',
      usage: { prompt_tokens: 4796, completion_tokens: 174, total_tokens: 4970 },
      model: 'kimi-k2-0905-preview',
      id: 'chatcmpl-6911668985355ab7ab43bc2b',
    },
    K3: {
      content: '',
      reasoning: '',
      toolCalls: [
        { id: 'functions.add:0', type: 'function', function: { name: 'add', arguments: '{"a": 2, "b": 3}' } },
      ],
      finishReason: 'tool_calls',
      usage: { prompt_tokens: 154, completion_tokens: 52, total_tokens: 206, cached_tokens: 0 },
      model: 'kimi-k2-0905-preview',
      id: 'chatcmpl-69116689aaaaaaaaaaaaaaaa',
    },
    K4: {
      content: 'Hello!',
      reasoning: 'The user greets me.',
      toolCalls: [],
      finishReason: 'stop',
      usage: { prompt_tokens: 8, completion_tokens: 11, total_tokens: 19, cached_tokens: 8 },
      model: 'kimi-k2-thinking',
      id: 'chatcmpl-6970b5d0bbbbbbbbbbbbbbbb',
    },
  };

  it.each(WIRE_FIXTURES)(
    'aggregates $label, normalised by its provider, into the recorded answer',
    (fixture) => {
      const provider = fixture.provider === 'glm' ? glm : kimi;
      const agg = new Aggregator();
      for (const payload of fixturePayloads(fixture)) {
        if (payload === '[DONE]') continue;
        const normalised = provider.normalizeChunk(JSON.parse(payload));
        if (isErrorFrame(normalised)) throw new Error(`unexpected error frame in ${fixture.label}`);
        agg.add(normalised);
      }
      expect({
        content: agg.content,
        reasoning: agg.reasoning,
        toolCalls: agg.toolCalls,
        finishReason: agg.finishReason,
        usage: agg.usage,
        model: agg.model,
        id: agg.id,
      }).toEqual(expected[fixture.label]);
    },
  );
});

// The runner cuts the delta that crosses EXAI_MAX_OUTPUT_BYTES with truncateUtf8 before aggregating it.
describe('truncateUtf8', () => {
  const byteLength = (s: string) => Buffer.byteLength(s, 'utf8');

  it.each([
    { text: 'hello', bytes: 10, expected: 'hello' },
    { text: 'hello', bytes: 5, expected: 'hello' },
    { text: 'hello', bytes: 3, expected: 'hel' },
    { text: 'hello', bytes: 0, expected: '' },
    { text: 'hello', bytes: -1, expected: '' },
    { text: '你好', bytes: 5, expected: '你' },
    { text: '你好', bytes: 3, expected: '你' },
    { text: '你好', bytes: 2, expected: '' },
    { text: 'a😀b', bytes: 4, expected: 'a' },
    { text: 'a😀b', bytes: 5, expected: 'a😀' },
    { text: 'é', bytes: 1, expected: '' },
    { text: '', bytes: 4, expected: '' },
  ])('cuts $text to $bytes bytes as $expected', ({ text, bytes, expected }) => {
    expect(truncateUtf8(text, bytes)).toBe(expected);
  });

  it('returns the longest whole-character prefix of the text that fits in the byte budget', () => {
    const text = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.string({ unit: fc.constantFrom('a', 'é', '€', '你', '😀', '𝄞', '\uFFFD') }),
    );
    fc.assert(
      fc.property(text, fc.integer({ min: -2, max: 120 }), (t, bytes) => {
        const cut = truncateUtf8(t, bytes);
        expect(t.startsWith(cut)).toBe(true);
        expect(byteLength(cut)).toBeLessThanOrEqual(Math.max(0, bytes));
        // A prefix of well-formed text can only break at its end: no dangling high surrogate there.
        // (Being a prefix, it also cannot carry a replacement character the text did not have.)
        const last = cut.charCodeAt(cut.length - 1);
        expect(last >= 0xd800 && last <= 0xdbff).toBe(false);
        // Maximal: the next whole character would not have fitted.
        if (cut !== t) {
          const nextChar = String.fromCodePoint(t.codePointAt(cut.length) as number);
          expect(byteLength(cut + nextChar)).toBeGreaterThan(bytes);
        }
      }),
      { numRuns: 500 },
    );
  });
});
