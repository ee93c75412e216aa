// Provider error codes decide what is retried: the tables in src/providers/error-codes.ts, read by
// errorFromBody (HTTP statuses) and errorFromFrame (in-band error frames) alike.
import { describe, expect, it } from 'vitest';
import { APIError } from '../src/errors.js';
import { classify, ERROR_CODES, retryAfterFromMessage } from '../src/providers/error-codes.js';
import { glm } from '../src/providers/glm.js';
import { kimi } from '../src/providers/kimi.js';
import { errorFromBody, errorFromFrame } from '../src/providers/provider.js';

const glmBody = (code: string, message: string) => JSON.stringify({ error: { code, message } });
const kimiBody = (type: string, message: string) => JSON.stringify({ error: { message, type } });

describe('provider error codes', () => {
  it.each([
    { provider: 'glm' as const, status: 429, code: '1113', retryable: false },
    { provider: 'glm' as const, status: 400, code: '1113', retryable: false },
    { provider: 'glm' as const, status: 400, code: '1211', retryable: false },
    { provider: 'glm' as const, status: 400, code: '1261', retryable: false },
    { provider: 'glm' as const, status: 429, code: '1302', retryable: true },
    { provider: 'glm' as const, status: 429, code: '1303', retryable: true },
    { provider: 'glm' as const, status: 429, code: '1305', retryable: true },
    { provider: 'kimi' as const, status: 429, code: 'exceeded_current_quota_error', retryable: false },
    { provider: 'kimi' as const, status: 401, code: 'invalid_authentication_error', retryable: false },
    { provider: 'kimi' as const, status: 429, code: 'rate_limit_reached_error', retryable: true },
    { provider: 'kimi' as const, status: 429, code: 'engine_overloaded_error', retryable: true },
  ])('$provider $code over HTTP $status: retryable $retryable', ({ provider, status, code, retryable }) => {
    const body = provider === 'glm' ? glmBody(code, 'x') : kimiBody(code, 'x');
    const error = errorFromBody(provider, status, body, { 'x-request-id': 'req-9' });
    expect(error).toMatchObject({ code, providerCode: code, status, retryable, requestId: 'req-9' });
  });

  it.each([
    { status: 400, retryable: false },
    { status: 403, retryable: false },
    { status: 404, retryable: false },
    { status: 413, retryable: false },
    { status: 408, retryable: true },
    { status: 409, retryable: true },
    { status: 429, retryable: true },
    { status: 500, retryable: true },
    { status: 503, retryable: true },
  ])('without a known code, HTTP $status is retryable: $retryable', ({ status, retryable }) => {
    expect(classify('kimi', status, 'something_new', 'x').retryable).toBe(retryable);
    expect(classify('glm', status, undefined, undefined).retryable).toBe(retryable);
  });

  it('an error frame carries the same code, the frame request id, and is classified the same', () => {
    const raw = { error: { code: '1113', message: 'Insufficient balance' }, request_id: 'frame-7' };
    const frame = glm.normalizeChunk(raw);
    expect('error' in frame).toBe(true);
    if (!('error' in frame)) return;
    const error = errorFromFrame('glm', frame, { 'x-request-id': 'header-7' });
    expect(error).toBeInstanceOf(APIError);
    expect(error).toMatchObject({ code: '1113', status: 200, inBand: true, retryable: false });
    expect(error.requestId).toBe('frame-7');
    expect(error.message).toBe('glm API error in the response (code 1113: Insufficient balance)');
  });

  it('an error frame without a request id takes the response header one', () => {
    const frame = kimi.normalizeChunk({ error: { message: 'busy', type: 'engine_overloaded_error' } });
    if (!('error' in frame)) throw new Error('not a frame');
    expect(errorFromFrame('kimi', frame, { 'x-request-id': 'h-1' })).toMatchObject({
      code: 'engine_overloaded_error',
      requestId: 'h-1',
      retryable: true,
    });
  });

  it("GLM's network_error (from finish_reason) and unknown frame codes are retried mid-stream", () => {
    expect(classify('glm', 200, 'network_error', 'inference failed').retryable).toBe(true);
    expect(classify('glm', 200, '9999', 'odd').retryable).toBe(true);
  });

  it.each([
    'The model glm-x does not support stream output, please call it with stream=false',
    'Invalid request: the model kimi-x does not support streaming',
    'stream is not supported for this model',
    'Streaming is not available on this endpoint',
  ])('a 4xx saying "%s" is streaming refused', (message) => {
    const c = classify('glm', 400, '1210', message);
    expect(c).toMatchObject({ streamRefused: true, retryable: false });
    // A 5xx or a rate limit with such words is not a refusal of streaming.
    expect(classify('glm', 503, undefined, message).streamRefused).toBe(false);
    expect(classify('glm', 429, undefined, message).streamRefused).toBe(false);
  });

  it('a 400 about something else is not streaming refused', () => {
    expect(classify('kimi', 400, 'invalid_request_error', 'Invalid request: messages').streamRefused).toBe(
      false,
    );
  });

  it("reads Kimi's wait from a rate-limit message", () => {
    expect(retryAfterFromMessage('... please try again after 3 seconds')).toBe(3000);
    expect(retryAfterFromMessage('... please try again after 1 seconds')).toBe(1000);
    expect(retryAfterFromMessage('try again later')).toBeUndefined();
    const body = kimiBody('rate_limit_reached_error', 'max concurrency: 1, please try again after 2 seconds');
    expect(errorFromBody('kimi', 429, body, {}).retryAfterMs).toBe(2000);
    // A Retry-After header wins over the message.
    expect(errorFromBody('kimi', 429, body, { 'retry-after': '5' }).retryAfterMs).toBe(5000);
  });

  it('every table entry names its meaning and its source', () => {
    for (const table of Object.values(ERROR_CODES)) {
      for (const entry of Object.values(table)) {
        expect(entry.meaning.length).toBeGreaterThan(3);
        expect(entry.source.length).toBeGreaterThan(3);
        expect(['fatal', 'retry']).toContain(entry.action);
      }
    }
  });
});
