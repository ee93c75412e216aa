// Provider seam: Retry-After, chunk normalisation, error bodies, and the GLM / Kimi request adapters.
import { describe, expect, it } from 'vitest';
import { APIError } from '../src/errors.js';
import { glm } from '../src/providers/glm.js';
import { kimi } from '../src/providers/kimi.js';
import { type ErrorFrame, errorFromBody, isErrorFrame, parseRetryAfter } from '../src/providers/provider.js';
import type { ChatCompletionChunk, ChatCompletionCreateParams, ChatMessage } from '../src/types.js';
import { fixturePayloads, WIRE_FIXTURES } from './fixtures/wire.js';

const NOW = Date.parse('2025-11-11T17:56:21Z');

/** A chunk that must not be an error frame. */
function asChunk(v: ChatCompletionChunk | ErrorFrame): ChatCompletionChunk {
  if (isErrorFrame(v)) throw new Error(`unexpected error frame: ${JSON.stringify(v)}`);
  return v;
}

const frames = (label: string) => {
  const fixture = WIRE_FIXTURES.find((f) => f.label === label);
  if (!fixture) throw new Error(`no fixture ${label}`);
  return fixturePayloads(fixture)
    .filter((p) => p !== '[DONE]')
    .map((p) => JSON.parse(p) as unknown);
};

describe('parseRetryAfter', () => {
  it.each([
    { value: '2', expected: 2_000 },
    { value: '0', expected: 0 },
    { value: '120', expected: 120_000 },
    { value: ' 3 ', expected: 3_000 },
    { value: '1.5', expected: 1_500 },
    { value: '0.25', expected: 250 },
    { value: '0.0004', expected: 0 },
  ])('reads $value seconds as $expected ms', ({ value, expected }) => {
    expect(parseRetryAfter(value, NOW)).toBe(expected);
  });

  it.each([
    { value: 'Tue, 11 Nov 2025 17:57:21 GMT', expected: 60_000 },
    { value: 'Tue, 11 Nov 2025 17:56:21 GMT', expected: 0 },
    { value: 'Mon, 10 Nov 2025 17:56:21 GMT', expected: 0 },
  ])('reads the HTTP date $value as $expected ms from now (never negative)', ({ value, expected }) => {
    expect(parseRetryAfter(value, NOW)).toBe(expected);
  });

  it('takes the first value of a repeated header', () => {
    expect(parseRetryAfter(['4', '9'], NOW)).toBe(4_000);
  });

  it.each([undefined, '', 'soon', 'garbage', 'Infinity', 'NaN', 'later, please'])(
    'returns undefined for an absent or unreadable value %j',
    (value) => {
      expect(parseRetryAfter(value, NOW)).toBeUndefined();
    },
  );

  it('returns undefined for an empty list of header values', () => {
    expect(parseRetryAfter([], NOW)).toBeUndefined();
  });

  // Not a number and not an HTTP date: V8's lenient Date.parse must not turn these into waits.
  it.each(['   ', '-5', 'soon 5', 'abc 2024'])('returns undefined for the garbage value %j', (value) => {
    expect(parseRetryAfter(value, NOW)).toBeUndefined();
  });
});

describe('toChunk', () => {
  it('fills in finish_reason: null where GLM leaves the key out, and the object GLM 2025 omits', () => {
    const chunk = asChunk(glm.normalizeChunk(frames('G1')[1]));
    expect(chunk.choices[0]?.finish_reason).toBeNull();
    expect(chunk.object).toBe('chat.completion.chunk');
    expect(chunk.choices[0]?.delta).toEqual({ role: 'assistant', reasoning_content: 'The' });
  });

  it('keeps GLM top-level usage and finish_reason on the final chunk', () => {
    const chunk = asChunk(glm.normalizeChunk(frames('G1').at(-1)));
    expect(chunk.choices[0]?.finish_reason).toBe('stop');
    expect(chunk.usage).toEqual({
      prompt_tokens: 16,
      completion_tokens: 145,
      total_tokens: 161,
      prompt_tokens_details: { cached_tokens: 6 },
    });
  });

  it('moves Kimi usage from choices[0].usage to the top level', () => {
    const chunk = asChunk(kimi.normalizeChunk(frames('K1').at(-1)));
    expect(chunk.usage).toEqual({ prompt_tokens: 19, completion_tokens: 13, total_tokens: 32 });
    expect(chunk.choices[0]).toEqual({ index: 0, delta: {}, finish_reason: 'stop' });
  });

  it('keeps a top-level usage that Kimi might also send, rather than the one in the choice', () => {
    const top = { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 };
    const inChoice = { prompt_tokens: 9, completion_tokens: 9, total_tokens: 18 };
    const chunk = asChunk(
      kimi.normalizeChunk({
        choices: [{ index: 0, delta: {}, finish_reason: 'stop', usage: inChoice }],
        usage: top,
      }),
    );
    expect(chunk.usage).toEqual(top);
  });

  it('leaves usage inside the choice alone for GLM', () => {
    const raw = { choices: [{ index: 0, delta: {}, usage: { prompt_tokens: 1 } }] };
    const chunk = asChunk(glm.normalizeChunk(raw));
    expect(chunk.usage).toBeUndefined();
  });

  it('gives a choice without a delta an empty one', () => {
    const chunk = asChunk(glm.normalizeChunk({ choices: [{ index: 0, finish_reason: 'stop' }] }));
    expect(chunk.choices[0]?.delta).toEqual({});
  });

  it('accepts a chunk with an empty choices array', () => {
    const chunk = asChunk(glm.normalizeChunk({ id: 'x', choices: [], usage: { total_tokens: 3 } }));
    expect(chunk.choices).toEqual([]);
  });

  it.each([
    {
      name: 'a GLM error frame (string code)',
      raw: { error: { code: '1301', message: 'System detected potentially unsafe or sensitive content' } },
      expected: { code: '1301', message: 'System detected potentially unsafe or sensitive content' },
    },
    {
      name: 'a GLM error frame with a numeric code',
      raw: { error: { code: 1305, message: 'The service may be temporarily overloaded' } },
      expected: { code: '1305', message: 'The service may be temporarily overloaded' },
    },
    {
      name: 'a Kimi-style error frame',
      raw: { error: { message: 'The engine is currently overloaded', type: 'engine_overloaded_error' } },
      expected: { message: 'The engine is currently overloaded', type: 'engine_overloaded_error' },
    },
    {
      name: 'an error frame without a message',
      raw: { error: { code: '1234' } },
      expected: { code: '1234', message: '{"code":"1234"}' },
    },
  ])('recognises $name', ({ raw, expected }) => {
    const frame = kimi.normalizeChunk(raw);
    expect(isErrorFrame(frame)).toBe(true);
    expect(frame).toEqual({ error: expected });
  });

  it.each([
    { name: 'null', raw: null },
    { name: 'an array', raw: [{ choices: [] }] },
    { name: 'a string', raw: '[DONE]' },
    { name: 'a number', raw: 42 },
    { name: 'an object without choices', raw: { id: 'x' } },
    { name: 'choices that is not an array', raw: { choices: { index: 0 } } },
    { name: 'a choice that is not an object', raw: { choices: [null] } },
    { name: 'an error that is only a string', raw: { error: 'overloaded' } },
  ])('throws a TypeError for $name', ({ raw }) => {
    expect(() => glm.normalizeChunk(raw)).toThrow(TypeError);
  });

  it.each(WIRE_FIXTURES)('normalises every frame of $label with its provider', (fixture) => {
    const provider = fixture.provider === 'glm' ? glm : kimi;
    for (const raw of frames(fixture.label)) {
      const chunk = asChunk(provider.normalizeChunk(raw));
      expect(chunk.object).toBe('chat.completion.chunk');
      for (const choice of chunk.choices) {
        expect(choice.finish_reason === null || typeof choice.finish_reason === 'string').toBe(true);
        expect(typeof choice.delta).toBe('object');
        expect(choice).not.toHaveProperty('usage');
      }
    }
    const last = asChunk(provider.normalizeChunk(frames(fixture.label).at(-1)));
    expect(last.usage).toMatchObject({ total_tokens: expect.any(Number) });
  });
});

describe('toCompletion', () => {
  it('reads a non-streamed answer with Kimi usage inside the choice', () => {
    const completion = kimi.normalizeCompletion({
      id: 'chatcmpl-1',
      created: 5,
      model: 'kimi-k2-0905-preview',
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: 'Hi', reasoning_content: 'r' },
          finish_reason: 'stop',
          usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
        },
      ],
    });
    expect(completion).toEqual({
      id: 'chatcmpl-1',
      created: 5,
      model: 'kimi-k2-0905-preview',
      content: 'Hi',
      reasoning: 'r',
      toolCalls: [],
      usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
      finishReason: 'stop',
    });
  });

  it('throws a TypeError for a body without choices', () => {
    expect(() => kimi.normalizeCompletion({ error: { message: 'x' } })).toThrow(TypeError);
  });
});

describe('errorFromBody', () => {
  it.each([
    {
      name: 'GLM 429 overload (1305)',
      provider: 'glm' as const,
      status: 429,
      body: '{"error":{"code":"1305","message":"The service may be temporarily overloaded, please try again later"}}',
      code: '1305',
      message: 'The service may be temporarily overloaded, please try again later',
      retryable: true,
    },
    {
      name: 'GLM 429 insufficient balance (1113)',
      provider: 'glm' as const,
      status: 429,
      body: '{"error":{"code":"1113","message":"Insufficient balance or no resource package. Please recharge."}}',
      code: '1113',
      message: 'Insufficient balance or no resource package. Please recharge.',
      // Out of credit stays out of credit: never retried, whatever the 429 suggests.
      retryable: false,
    },
    {
      name: 'GLM 400 prompt too long (1261)',
      provider: 'glm' as const,
      status: 400,
      body: '{"error":{"code":"1261","message":"Prompt too long"}}',
      code: '1261',
      message: 'Prompt too long',
      retryable: false,
    },
    {
      name: 'GLM 401 with a Chinese message',
      provider: 'glm' as const,
      status: 401,
      body: '{"error":{"code":"401","message":"令牌已过期或验证不正确"}}',
      code: '401',
      message: '令牌已过期或验证不正确',
      retryable: false,
    },
    {
      name: 'Kimi 429 engine overloaded',
      provider: 'kimi' as const,
      status: 429,
      body: '{"error":{"message":"The engine is currently overloaded, please try again later","type":"engine_overloaded_error"}}',
      code: 'engine_overloaded_error',
      message: 'The engine is currently overloaded, please try again later',
      retryable: true,
    },
    {
      name: 'Kimi 401 invalid authentication',
      provider: 'kimi' as const,
      status: 401,
      body: '{"error":{"message":"Invalid Authentication","type":"invalid_authentication_error"}}',
      code: 'invalid_authentication_error',
      message: 'Invalid Authentication',
      retryable: false,
    },
    {
      name: 'Kimi 400 content filter',
      provider: 'kimi' as const,
      status: 400,
      body: '{"error":{"message":"The request was rejected because it was considered high risk","type":"content_filter"}}',
      code: 'content_filter',
      message: 'The request was rejected because it was considered high risk',
      retryable: false,
    },
    {
      name: 'a body with code and type (code wins)',
      provider: 'kimi' as const,
      status: 500,
      body: '{"error":{"message":"oops","type":"server_error","code":"server_error_2"}}',
      code: 'server_error_2',
      message: 'oops',
      retryable: true,
    },
    {
      name: 'a flat body without an error wrapper',
      provider: 'glm' as const,
      status: 503,
      body: '{"code":1305,"message":"busy"}',
      code: '1305',
      message: 'busy',
      retryable: true,
    },
  ])('reads $name', ({ provider, status, body, code, message, retryable }) => {
    const error = errorFromBody(provider, status, body, {});
    expect(error).toBeInstanceOf(APIError);
    expect(error).toMatchObject({
      // The provider's own code is the error's code: "1113" (out of credit) vs "1302" (slow down).
      code,
      provider,
      status,
      providerCode: code,
      providerMessage: message,
      retryable,
    });
    expect(error.message).toBe(`${provider} API error ${status} (code ${code}: ${message})`);
  });

  it('keeps a short, single-line excerpt of an HTML gateway page', () => {
    const html = `<html>\r\n<head><title>504 Gateway Time-out</title></head>\r\n<body>\n\t<center><h1>504 Gateway Time-out</h1></center>\n${'<p>padding</p>\n'.repeat(40)}</body>\n</html>\n`;
    const error = errorFromBody('kimi', 504, html, {});
    expect(error.providerCode).toBeUndefined();
    expect(error.providerMessage).toMatch(
      /^<html> <head><title>504 Gateway Time-out<\/title><\/head> <body> <center>/,
    );
    expect(error.providerMessage?.length).toBeLessThanOrEqual(200);
    expect(error.providerMessage).not.toMatch(/[\r\n\t]/);
    expect(error.message).not.toMatch(/[\r\n]/);
    expect(error.retryable).toBe(true);
  });

  it.each([
    { name: 'plain text', body: 'upstream connect error\n', expected: 'upstream connect error' },
    { name: 'a JSON string', body: '"Bad Gateway"', expected: '"Bad Gateway"' },
    { name: 'JSON without a message', body: '{"detail":"nope"}', expected: '{"detail":"nope"}' },
  ])('falls back to the raw text for $name', ({ body, expected }) => {
    expect(errorFromBody('glm', 502, body, {}).providerMessage).toBe(expected);
  });

  it('has no message for an empty body', () => {
    const error = errorFromBody('glm', 500, '  \n', {});
    expect(error.providerMessage).toBeUndefined();
    expect(error.message).toBe('glm API error 500');
  });

  it.each([
    { headers: { 'retry-after': '7' }, expected: 7_000 },
    { headers: { 'retry-after': ['2', '5'] }, expected: 2_000 },
    { headers: { 'retry-after': '0.5' }, expected: 500 },
    { headers: {}, expected: undefined },
  ])('takes retryAfterMs from the retry-after header $headers', ({ headers, expected }) => {
    const body = '{"error":{"message":"slow down","type":"rate_limit_reached_error"}}';
    expect(errorFromBody('kimi', 429, body, headers).retryAfterMs).toBe(expected);
  });

  it.each([
    { headers: { 'x-request-id': 'req-1' }, expected: 'req-1' },
    { headers: { 'x-log-id': 'log-2' }, expected: 'log-2' },
    { headers: { 'request-id': ['req-3', 'req-4'] }, expected: 'req-3' },
    { headers: {}, expected: undefined },
  ])('takes the request id from $headers', ({ headers, expected }) => {
    expect(errorFromBody('glm', 500, '{}', headers).requestId).toBe(expected);
  });

  it('is what each provider adapter answers with, under its own name', () => {
    const body = '{"error":{"code":"1305","message":"busy"}}';
    expect(glm.apiError(429, body, { 'retry-after': '1' })).toMatchObject({
      provider: 'glm',
      providerCode: '1305',
      retryAfterMs: 1_000,
    });
    expect(kimi.apiError(429, body, {})).toMatchObject({ provider: 'kimi', providerCode: '1305' });
  });
});

describe('provider adapters: request bodies', () => {
  const messages: ChatMessage[] = [{ role: 'user', content: 'Hi' }];
  const full: ChatCompletionCreateParams = {
    messages,
    temperature: 0.6,
    top_p: 0.95,
    max_tokens: 100,
    stop: ['\n\n'],
    tools: [{ type: 'function', function: { name: 'add', parameters: { type: 'object' } } }],
    tool_choice: 'auto',
    response_format: { type: 'text' },
    thinking: { type: 'disabled' },
  };
  const openAiFields = {
    temperature: 0.6,
    top_p: 0.95,
    max_tokens: 100,
    stop: ['\n\n'],
    tools: full.tools,
    tool_choice: 'auto',
    response_format: { type: 'text' },
  };

  it.each([
    {
      provider: glm,
      stream: true,
      // Streaming with tools: exai asks GLM to stream tool-call arguments.
      extra: { stream_options: { include_usage: true }, thinking: { type: 'disabled' }, tool_stream: true },
    },
    { provider: glm, stream: false, extra: { thinking: { type: 'disabled' } } },
    {
      provider: kimi,
      stream: true,
      extra: { stream_options: { include_usage: true }, thinking: { type: 'disabled' } },
    },
    { provider: kimi, stream: false, extra: { thinking: { type: 'disabled' } } },
  ])('builds the $provider.name body with stream=$stream', ({ provider, stream, extra }) => {
    const expected: Record<string, unknown> = {
      model: 'some-model',
      messages,
      stream,
      ...openAiFields,
      ...extra,
    };
    // Moonshot deprecated max_tokens: Kimi gets the same limit as max_completion_tokens.
    if (provider === kimi) {
      expected.max_completion_tokens = expected.max_tokens;
      delete expected.max_tokens;
    }
    expect(provider.buildBody(full, 'some-model', stream)).toEqual(expected);
  });

  it.each([glm, kimi])('leaves unset options out of the $name body', (provider) => {
    expect(provider.buildBody({ messages }, 'm', false)).toEqual({ model: 'm', messages, stream: false });
  });

  it('passes GLM thinking through as given', () => {
    expect(glm.buildBody({ messages, thinking: { type: 'enabled' } }, 'glm-4.6', true).thinking).toEqual({
      type: 'enabled',
    });
  });

  it('appends a GLM continuation as a plain trailing assistant message (prefill)', () => {
    const history: ChatMessage[] = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Count to five.' },
    ];
    const next = glm.continuation(history, 'One, two, ');
    expect(next).toEqual([...history, { role: 'assistant', content: 'One, two, ' }]);
    expect(next.at(-1)).not.toHaveProperty('partial');
    expect(history).toHaveLength(2);
  });

  it('appends a Kimi continuation with partial: true (partial mode)', () => {
    const history: ChatMessage[] = [{ role: 'user', content: 'Count to five.' }];
    const next = kimi.continuation(history, 'One, two, ');
    expect(next).toEqual([...history, { role: 'assistant', content: 'One, two, ', partial: true }]);
    expect(history).toHaveLength(1);
  });
});
