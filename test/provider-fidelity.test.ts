// The adapters as a 2026 GLM / Kimi user meets them: request fields pass through, GLM mappings,
// content parts, catalog checks, real tool-call indices and finish reasons in OpenAI's set.
import { describe, expect, it } from 'vitest';
import { createClient } from '../src/client.js';
import { loadConfig } from '../src/config/index.js';
import { ConfigError, UsageError } from '../src/errors.js';
import { DEFAULT_MODELS, findModel, findRetired, MODELS, RETIRED } from '../src/providers/catalog.js';
import { glm } from '../src/providers/glm.js';
import { PROVIDERS } from '../src/providers/index.js';
import { kimi } from '../src/providers/kimi.js';
import { type ErrorFrame, isErrorFrame } from '../src/providers/provider.js';
import { checkRequest } from '../src/request-checks.js';
import type { ChatCompletionChunk, ChatCompletionCreateParams, ChatMessage } from '../src/types.js';

const messages: ChatMessage[] = [{ role: 'user', content: 'Hi' }];
const tools: ChatCompletionCreateParams['tools'] = [
  { type: 'function', function: { name: 'get_weather', parameters: { type: 'object' } } },
];

function asChunk(v: ChatCompletionChunk | ErrorFrame): ChatCompletionChunk {
  if (isErrorFrame(v)) throw new Error(`unexpected error frame: ${v.error.message}`);
  return v;
}

const load = (env: Record<string, string>) => loadConfig({ env, dotenvDir: false });

describe('request fields pass through as openai-node sends them', () => {
  const params: ChatCompletionCreateParams = {
    messages,
    reasoning_effort: 'high',
    seed: 7,
    user: 'u-1',
    parallel_tool_calls: false,
    do_sample: true,
    request_id: 'req-1',
    user_id: 'user-9',
    frequency_penalty: 0,
    x_future_field: { nested: [1, 2] },
  };

  it.each([glm, kimi])('$name: every field set by the caller reaches the body unchanged', (provider) => {
    const body = provider.buildBody(params, 'm', true);
    for (const [key, value] of Object.entries(params)) expect(body[key]).toEqual(value);
  });

  it('merges the caller stream_options with include_usage when streaming', () => {
    const body = glm.buildBody({ messages, stream_options: { chunk_include: 1 } }, 'glm-5.3', true);
    expect(body.stream_options).toEqual({ chunk_include: 1, include_usage: true });
    expect(glm.buildBody({ messages, stream_options: { x: 1 } }, 'glm-5.3', false)).not.toHaveProperty(
      'stream_options',
    );
  });

  it('GLM: max_completion_tokens becomes max_tokens (GLM has only max_tokens)', () => {
    const body = glm.buildBody({ messages, max_completion_tokens: 300 }, 'glm-5.3', true);
    expect(body.max_tokens).toBe(300);
    expect(body).not.toHaveProperty('max_completion_tokens');
    const both = glm.buildBody({ messages, max_tokens: 10, max_completion_tokens: 300 }, 'glm-5.3', true);
    expect(both.max_tokens).toBe(10);
  });

  it('Kimi: max_tokens becomes max_completion_tokens (Moonshot deprecated max_tokens)', () => {
    const body = kimi.buildBody({ messages, max_tokens: 50 }, 'kimi-k2.6', true);
    expect(body.max_completion_tokens).toBe(50);
    expect(body).not.toHaveProperty('max_tokens');
  });

  it('GLM: streaming with tools and no tool_stream from the caller sends tool_stream: true', () => {
    expect(glm.buildBody({ messages, tools }, 'glm-5.3', true).tool_stream).toBe(true);
    expect(glm.buildBody({ messages, tools }, 'glm-future-9', true).tool_stream).toBe(true);
  });

  it('GLM: tool_stream is left alone when the caller set it, when not streaming, or without tools', () => {
    expect(glm.buildBody({ messages, tools, tool_stream: false }, 'glm-5.3', true).tool_stream).toBe(false);
    expect(glm.buildBody({ messages, tools }, 'glm-5.3', false)).not.toHaveProperty('tool_stream');
    expect(glm.buildBody({ messages }, 'glm-5.3', true)).not.toHaveProperty('tool_stream');
    expect(glm.buildBody({ messages, tools: [] }, 'glm-5.3', true)).not.toHaveProperty('tool_stream');
  });

  it('GLM: no tool_stream for a model the catalog says cannot stream tool calls (GLM-4.5)', () => {
    expect(glm.buildBody({ messages, tools }, 'glm-4.5', true)).not.toHaveProperty('tool_stream');
  });
});

describe('request checks: content parts, n, catalog limits', () => {
  const image = { type: 'image_url' as const, image_url: { url: 'data:image/png;base64,AAAA' } };

  it('accepts content parts and counts only their text', () => {
    const parts: ChatMessage[] = [
      { role: 'user', content: [{ type: 'text', text: 'What is this?' }, image] },
    ];
    expect(() => checkRequest({ messages: parts }, 'glm-5.3-flash')).not.toThrow();
    // A long data URL is not text: it does not make the prompt "too long" for a small window.
    const big = {
      type: 'image_url' as const,
      image_url: { url: `data:image/png;base64,${'A'.repeat(8e6)}` },
    };
    expect(() => checkRequest({ messages: [{ role: 'user', content: [big] }] }, 'glm-4.6v')).not.toThrow();
    const longText = [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'x'.repeat(1e6) }] }];
    expect(() => checkRequest({ messages: longText }, 'glm-4.6v')).toThrow(/prompt too long for glm-4.6v/);
  });

  it.each([
    [[{ type: 'text' }], /content\[0\] of type "text" needs a string text/],
    [[{ text: 'no type' }], /content\[0\] must be a content part with a type/],
    [[{ type: 'image_url' }], /content\[0\] of type "image_url" needs a image_url object/],
    [{ not: 'an array' }, /content must be a string or an array of content parts/],
  ])('refuses malformed content %j clearly', (content, message) => {
    const bad = [{ role: 'user', content }] as unknown as ChatMessage[];
    expect(() => checkRequest({ messages: bad }, 'glm-5.3')).toThrow(message);
  });

  it.each([2, 0, 1.5])('refuses n = %s: exai aggregates one choice', (n) => {
    expect(() => checkRequest({ messages, n }, 'glm-5.3')).toThrow(UsageError);
    expect(() => checkRequest({ messages, n }, 'glm-5.3')).toThrow(/n must be 1/);
  });

  it('accepts n = 1', () => {
    expect(() => checkRequest({ messages, n: 1 }, 'kimi-k2.6')).not.toThrow();
  });

  it.each([
    ['glm' as const, 'glm-5.3', { thinking: { type: 'disabled' as const } }, /glm-5.3 always reasons/],
    [
      'kimi' as const,
      'kimi-k2.7-code',
      { thinking: { type: 'disabled' as const } },
      /kimi-k2.7-code always reasons/,
    ],
    [
      'kimi' as const,
      'kimi-k3',
      { reasoning_effort: 'medium' },
      /takes reasoning_effort "low", "high", "max"/,
    ],
    ['kimi' as const, 'kimi-k2.6', { reasoning_effort: 'high' }, /kimi-k2.6 does not take reasoning_effort/],
    [
      'glm' as const,
      'glm-5.3',
      { messages: [{ role: 'user' as const, content: [image] }] },
      /does not read images/,
    ],
    [
      'glm' as const,
      'glm-4.5v',
      { messages: [{ role: 'user' as const, content: [{ type: 'video_url', video_url: { url: 'u' } }] }] },
      /does not read video/,
    ],
    [
      'glm' as const,
      'glm-5.3',
      { thinking: { type: 'off' } as unknown as { type: 'enabled' } },
      /thinking must be/,
    ],
    [
      'kimi' as const,
      'kimi-k2.6',
      { thinking: 'enabled' as unknown as { type: 'enabled' } },
      /thinking must be/,
    ],
  ])('refuses what %s is known to reject, before any request (%#)', (provider, model, extra, message) => {
    expect(() => PROVIDERS[provider].checkParams({ messages, ...extra }, model)).toThrow(message);
  });

  it('checks nothing of a model the catalog does not know (it is sent as it is)', () => {
    const params = { messages, thinking: { type: 'disabled' as const }, reasoning_effort: 'ultra' };
    expect(() => glm.checkParams(params, 'glm-9-preview')).not.toThrow();
    expect(() => kimi.checkParams(params, 'kimi-k9')).not.toThrow();
  });

  it('accepts what the catalog allows', () => {
    expect(() => glm.checkParams({ messages, reasoning_effort: 'low' }, 'glm-5.3')).not.toThrow();
    expect(() => glm.checkParams({ messages, thinking: { type: 'disabled' } }, 'glm-4.7')).not.toThrow();
    const vision = { messages: [{ role: 'user' as const, content: [image] }] };
    expect(() => kimi.checkParams(vision, 'kimi-k2.6')).not.toThrow();
  });
});

describe('chunk normalisation', () => {
  const toolFrame = (call: Record<string, unknown>, finish?: string) => ({
    id: 'g',
    choices: [{ index: 0, delta: { tool_calls: [call] }, ...(finish ? { finish_reason: finish } : {}) }],
  });

  it("gives GLM's one-frame index -1 tool calls real indices, one per call", () => {
    const state = { nextTool: 0, lastTool: -1, lastId: '' };
    const a = asChunk(
      glm.normalizeChunk(toolFrame({ id: 'call_a', index: -1, function: { name: 'f' } }), state),
    );
    const b = asChunk(
      glm.normalizeChunk(
        toolFrame({ id: 'call_b', index: -1, function: { name: 'g' } }, 'tool_calls'),
        state,
      ),
    );
    expect(a.choices[0]?.delta.tool_calls?.[0]?.index).toBe(0);
    expect(b.choices[0]?.delta.tool_calls?.[0]?.index).toBe(1);
  });

  it('keeps real indices, and puts an id-less fragment on the call in progress', () => {
    const state = { nextTool: 0, lastTool: -1, lastId: '' };
    glm.normalizeChunk(toolFrame({ id: 'call_a', index: 0, function: { name: 'f', arguments: '' } }), state);
    const frag = asChunk(glm.normalizeChunk(toolFrame({ index: -1, function: { arguments: '{}' } }), state));
    const next = asChunk(
      glm.normalizeChunk(toolFrame({ id: 'call_b', index: -1, function: { name: 'g' } }), state),
    );
    expect(frag.choices[0]?.delta.tool_calls?.[0]?.index).toBe(0);
    expect(next.choices[0]?.delta.tool_calls?.[0]?.index).toBe(1);
  });

  it('maps GLM sensitive to content_filter and keeps the original', () => {
    const c = asChunk(glm.normalizeChunk({ choices: [{ index: 0, delta: {}, finish_reason: 'sensitive' }] }));
    expect(c.choices[0]?.finish_reason).toBe('content_filter');
    expect(c.choices[0]?.provider_finish_reason).toBe('sensitive');
  });

  it('maps GLM model_context_window_exceeded to length, and an unheard-of reason to stop', () => {
    const c = asChunk(
      glm.normalizeChunk({
        choices: [{ index: 0, delta: {}, finish_reason: 'model_context_window_exceeded' }],
      }),
    );
    expect(c.choices[0]).toMatchObject({
      finish_reason: 'length',
      provider_finish_reason: 'model_context_window_exceeded',
    });
    const odd = asChunk(kimi.normalizeChunk({ choices: [{ index: 0, delta: {}, finish_reason: 'eos' }] }));
    expect(odd.choices[0]).toMatchObject({ finish_reason: 'stop', provider_finish_reason: 'eos' });
  });

  it("leaves OpenAI's own finish reasons as they are, without a provider_finish_reason", () => {
    for (const reason of ['stop', 'length', 'tool_calls', 'content_filter']) {
      const c = asChunk(kimi.normalizeChunk({ choices: [{ index: 0, delta: {}, finish_reason: reason }] }));
      expect(c.choices[0]?.finish_reason).toBe(reason);
      expect(c.choices[0]).not.toHaveProperty('provider_finish_reason');
    }
  });

  it('turns GLM network_error into a failure the runner recovers from, keeping text it carried', () => {
    const frame = glm.normalizeChunk({
      choices: [{ index: 0, delta: { content: '' }, finish_reason: 'network_error' }],
    });
    expect(isErrorFrame(frame) && frame.error.code).toBe('network_error');
    const withText = asChunk(
      glm.normalizeChunk({
        choices: [{ index: 0, delta: { content: 'tail' }, finish_reason: 'network_error' }],
      }),
    );
    expect(withText.choices[0]).toMatchObject({ delta: { content: 'tail' }, finish_reason: null });
  });

  it('maps non-streamed finish reasons the same way', () => {
    const done = glm.normalizeCompletion({
      choices: [{ index: 0, message: { content: 'x' }, finish_reason: 'sensitive' }],
    });
    expect(done).toMatchObject({ finishReason: 'content_filter', providerFinishReason: 'sensitive' });
    const failed = glm.normalizeCompletion({
      choices: [{ index: 0, message: { content: 'x' }, finish_reason: 'network_error' }],
    });
    expect(failed.failure?.code).toBe('network_error');
  });
});

describe('endpoints', () => {
  it.each([
    ['global', 'https://api.z.ai/api/paas/v4'],
    ['china', 'https://open.bigmodel.cn/api/paas/v4'],
    ['coding', 'https://api.z.ai/api/coding/paas/v4'],
    ['Coding-China', 'https://open.bigmodel.cn/api/coding/paas/v4'],
  ])('GLM_ENDPOINT=%s → %s', (endpoint, url) => {
    expect(load({ GLM_ENDPOINT: endpoint }).glm.baseURL).toBe(url);
  });

  it.each([
    ['global', 'https://api.moonshot.ai/v1'],
    ['china', 'https://api.moonshot.cn/v1'],
  ])('KIMI_ENDPOINT=%s → %s', (endpoint, url) => {
    expect(load({ KIMI_ENDPOINT: endpoint }).kimi.baseURL).toBe(url);
  });

  it('*_BASE_URL overrides the endpoint', () => {
    const c = load({ GLM_ENDPOINT: 'coding', GLM_BASE_URL: 'http://127.0.0.1:9/x/' });
    expect(c.glm).toMatchObject({ endpoint: 'coding', baseURL: 'http://127.0.0.1:9/x' });
  });

  it.each([
    ['GLM_ENDPOINT', 'coding-global', /GLM_ENDPOINT: expected one of global, china, coding, coding-china/],
    ['KIMI_ENDPOINT', 'coding', /KIMI_ENDPOINT: expected one of global, china, got "coding"/],
  ])('a bad %s is a clear config error', (name, value, message) => {
    expect(() => load({ [name]: value })).toThrow(ConfigError);
    expect(() => load({ [name]: value })).toThrow(message);
  });

  it('the endpoint client option picks the URL; baseURL still wins', () => {
    const config = load({ GLM_API_KEY: 'k' });
    expect(createClient('glm', { config, endpoint: 'coding' }).config.baseURL).toBe(
      'https://api.z.ai/api/coding/paas/v4',
    );
    expect(createClient('glm', { config, endpoint: 'coding', baseURL: 'http://h/v4' }).config.baseURL).toBe(
      'http://h/v4',
    );
    expect(() => createClient('kimi', { config, endpoint: 'moon' })).toThrow(/use one of global, china/);
  });

  it('a 401 or a 1113 on one GLM plan names the endpoint of the other', () => {
    const auth = '{"error":{"code":"1000","message":"Authentication failed"}}';
    const payg = glm.apiError(401, auth, {}, 'https://api.z.ai/api/paas/v4');
    expect(payg.message).toMatch(/Coding Plan key.*GLM_ENDPOINT=coding$/);
    const coding = glm.apiError(401, auth, {}, 'https://open.bigmodel.cn/api/coding/paas/v4');
    expect(coding.message).toMatch(/pay-as-you-go API key.*GLM_ENDPOINT=china$/);
    const balance = '{"error":{"code":"1113","message":"Insufficient balance or no resource package."}}';
    const e = glm.apiError(429, balance, {}, 'https://open.bigmodel.cn/api/paas/v4');
    expect(e.message).toMatch(/insufficient balance, or a GLM Coding Plan key.*GLM_ENDPOINT=coding-china/);
    expect(glm.apiError(500, '{}', {}, 'https://api.z.ai/api/paas/v4').message).not.toMatch(/ENDPOINT/);
  });

  it('a Kimi 401 names the other platform', () => {
    const body = '{"error":{"type":"invalid_authentication_error","message":"Invalid Authentication"}}';
    expect(kimi.apiError(401, body, {}, 'https://api.moonshot.ai/v1').message).toMatch(/KIMI_ENDPOINT=china/);
    expect(kimi.apiError(401, body, {}, 'https://api.moonshot.cn/v1').message).toMatch(
      /KIMI_ENDPOINT=global/,
    );
  });
});

describe('catalog', () => {
  it('defaults are current catalog models, never retired ones', () => {
    for (const id of Object.values(DEFAULT_MODELS)) {
      expect(findModel(id)?.status).toBe('current');
      expect(findRetired(id)).toBeUndefined();
    }
    expect(load({}).kimi.defaultModel).toBe('kimi-k2.6');
    expect(load({}).glm.defaultModel).toBe('glm-5.3');
  });

  it('every entry says when and where it was checked, and has sane limits', () => {
    for (const m of MODELS) {
      expect(m.checked).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      expect(m.source.length).toBeGreaterThan(10);
      expect(m.maxOutput).toBeLessThanOrEqual(m.contextWindow);
      expect(m.id.startsWith(m.provider === 'glm' ? 'glm-' : 'kimi-')).toBe(true);
    }
  });

  it('lists the GLM-5.x / GLM-4.7 and Kimi K2.6 / K2.7 / K3 generations', () => {
    for (const id of [
      'glm-5.3',
      'glm-5.3-flash',
      'glm-5',
      'glm-4.7',
      'kimi-k2.6',
      'kimi-k2.7-code',
      'kimi-k3',
    ]) {
      expect(findModel(id)?.id).toBe(id);
    }
  });

  it('knows the retired Kimi ids and what to use instead; none of them is in the catalog', () => {
    expect(findRetired('kimi-k2-0905-preview')).toMatchObject({ retired: '2026-05-25', use: 'kimi-k2.6' });
    for (const r of RETIRED) {
      expect(findModel(r.id)).toBeUndefined();
      expect(findModel(r.use)?.status).toBe('current');
    }
  });
});
