// GLM (Z.ai): usage on the final chunk (or a separate `choices: []` chunk), no `finish_reason` key on
// intermediate chunks, a whole tool call in one `index: -1` frame unless `tool_stream` is on,
// `network_error` / `sensitive` finish reasons, in-band `{"error":...}` frames, error bodies
// `{"error":{"code":"1305","message":...}}`, only `max_tokens` (no `max_completion_tokens`).
import type { ChatMessage } from '../types.js';
import { findModel } from './catalog.js';
import { type FinishReasons, toChunk, toCompletion } from './normalize.js';
import { baseBody, errorFromBody, type Provider } from './provider.js';
import { checkCatalogLimits, checkThinking } from './request-rules.js';

const FINISH: FinishReasons = {
  // model_context_window_exceeded: seen from GLM-4.7 and GLM-5 (any-llm#1200); the answer ran out of room.
  map: { sensitive: 'content_filter', model_context_window_exceeded: 'length' },
  fail: { network_error: 'GLM reported finish_reason "network_error": the inference failed' },
};
const CHUNK = { usageFromChoice: false, finish: FINISH };

/**
 * A key of the other plan is refused with 401, or (seen on both hosts) with 429 code 1113, the code
 * that also means "insufficient balance": name the other family of endpoints.
 */
function authHint(baseURL: string | undefined) {
  return (status: number, code: string | undefined): string | undefined => {
    if (baseURL === undefined || !(status === 401 || code === '1113')) return undefined;
    const coding = /\/api\/coding\/paas\//.test(baseURL);
    const china = /bigmodel\.cn/.test(baseURL);
    const other = coding ? (china ? 'china' : 'global') : china ? 'coding-china' : 'coding';
    const cause = code === '1113' ? 'insufficient balance, or ' : '';
    return coding
      ? `${cause}a pay-as-you-go API key on the GLM Coding Plan endpoint: such a key needs GLM_ENDPOINT=${other}`
      : `${cause}a GLM Coding Plan key, which works only on the Coding Plan endpoint: set GLM_ENDPOINT=${other}`;
  };
}

export const glm: Provider = {
  name: 'glm',
  buildBody(params, model, stream) {
    const body = baseBody(params, model, stream);
    // GLM has only `max_tokens`; openai-node code sends the newer name.
    if (body.max_completion_tokens !== undefined) {
      body.max_tokens ??= body.max_completion_tokens;
      delete body.max_completion_tokens;
    }
    // Without tool_stream GLM sends a tool call only once it is whole: minutes of silence for a large one.
    const tools = Array.isArray(body.tools) && body.tools.length > 0;
    if (stream && tools && body.tool_stream === undefined && findModel(model)?.toolStream !== false) {
      body.tool_stream = true;
    }
    return body;
  },
  // GLM continues a trailing assistant message (prefill); it has no `partial` flag.
  continuation(messages, partial) {
    const prefill: ChatMessage = { role: 'assistant', content: partial };
    return [...messages, prefill];
  },
  normalizeChunk: (raw, state) => toChunk(raw, CHUNK, state),
  normalizeCompletion: (raw) => toCompletion(raw, FINISH),
  apiError: (status, body, headers, baseURL) =>
    errorFromBody('glm', status, body, headers, authHint(baseURL)),
  checkParams(params, model) {
    checkThinking(params.thinking, true);
    checkCatalogLimits(params, model);
  },
};
