// GLM (Z.ai): usage on the final chunk, no `finish_reason` key on intermediate chunks, `thinking` option,
// in-band `{"error":...}` frames, error bodies `{"error":{"code":"1305","message":...}}`.
import type { ChatMessage } from '../types.js';
import { baseBody, errorFromBody, type Provider, toChunk, toCompletion } from './provider.js';

export const glm: Provider = {
  name: 'glm',
  buildBody(params, model, stream) {
    const body = baseBody(params, model, stream);
    if (params.thinking) body.thinking = params.thinking;
    return body;
  },
  // GLM continues a trailing assistant message (prefill); it has no `partial` flag.
  continuation(messages, partial) {
    const prefill: ChatMessage = { role: 'assistant', content: partial };
    return [...messages, prefill];
  },
  normalizeChunk: (raw) => toChunk(raw, false),
  normalizeCompletion: toCompletion,
  apiError: (status, body, headers) => errorFromBody('glm', status, body, headers),
};
