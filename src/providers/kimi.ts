// Kimi (Moonshot): usage inside `choices[0]` of the final chunk (sometimes then a `choices: []` usage
// chunk), `role` only on the first chunk, partial mode for continuation, error bodies
// `{"error":{"message":...,"type":...}}`. Moonshot ignores top-level fields it does not know.
import type { ChatMessage } from '../types.js';
import { type FinishReasons, toChunk, toCompletion } from './normalize.js';
import { baseBody, errorFromBody, type Provider } from './provider.js';
import { checkCatalogLimits, checkThinking } from './request-rules.js';

const FINISH: FinishReasons = { map: {}, fail: {} };
const CHUNK = { usageFromChoice: true, finish: FINISH };

/** A 401 may be a key of the other platform: platform.moonshot.cn keys work only on api.moonshot.cn. */
function authHint(baseURL: string | undefined) {
  return (status: number): string | undefined => {
    if (status !== 401 || baseURL === undefined) return undefined;
    return /moonshot\.cn/.test(baseURL)
      ? 'this is the mainland China endpoint; a key from platform.moonshot.ai needs KIMI_ENDPOINT=global'
      : 'a key from platform.moonshot.cn works only on the China endpoint: set KIMI_ENDPOINT=china';
  };
}

export const kimi: Provider = {
  name: 'kimi',
  buildBody(params, model, stream) {
    const body = baseBody(params, model, stream);
    // Moonshot deprecated `max_tokens` for `max_completion_tokens` (K2.6 is reported to ignore the old name).
    if (body.max_tokens !== undefined) {
      body.max_completion_tokens ??= body.max_tokens;
      delete body.max_tokens;
    }
    return body;
  },
  // Partial mode: the reply continues the prefix and does not repeat it.
  continuation(messages, partial) {
    const prefill: ChatMessage = { role: 'assistant', content: partial, partial: true };
    return [...messages, prefill];
  },
  normalizeChunk: (raw, state) => toChunk(raw, CHUNK, state),
  normalizeCompletion: (raw) => toCompletion(raw, FINISH),
  apiError: (status, body, headers, baseURL) =>
    errorFromBody('kimi', status, body, headers, authHint(baseURL)),
  checkParams(params, model) {
    checkThinking(params.thinking, false);
    checkCatalogLimits(params, model);
  },
};
