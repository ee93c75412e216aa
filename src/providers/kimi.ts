// Kimi (Moonshot): usage inside `choices[0]` of the final chunk, `role` only on the first chunk,
// partial mode for continuation, error bodies `{"error":{"message":...,"type":...}}`.
import type { ChatMessage } from '../types.js';
import { baseBody, errorFromBody, type Provider, toChunk, toCompletion } from './provider.js';

export const kimi: Provider = {
  name: 'kimi',
  buildBody: baseBody,
  // Partial mode: the reply continues the prefix and does not repeat it.
  continuation(messages, partial) {
    const prefill: ChatMessage = { role: 'assistant', content: partial, partial: true };
    return [...messages, prefill];
  },
  normalizeChunk: (raw) => toChunk(raw, true),
  normalizeCompletion: toCompletion,
  apiError: (status, body, headers) => errorFromBody('kimi', status, body, headers),
};
