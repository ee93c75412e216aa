// GLM and Kimi wire JSON: stream chunks, non-streaming completions, usage and model lists. Pure.
// Shapes follow /work/shared/research/provider-wire-formats.md (GLM 2026 variant with `object`).
import { randomBytes } from 'node:crypto';
import type { ProviderName } from '../types.js';
import type { AnswerPlan } from './answer.js';
import { group } from './text.js';

type Json = Record<string, unknown>;

/** Identity of one response: the same id and `created` on every chunk. */
export interface ResponseMeta {
  provider: ProviderName;
  id: string;
  created: number;
  model: string;
}

export interface StreamEvent {
  chunk: Json;
  /** The chunk that carries finish_reason and usage. */
  final: boolean;
}

// Kimi sends a fingerprint on every chunk; a fixed one is as good as any.
export const KIMI_FINGERPRINT = 'fpv0_e1a70c0d';

const pad = (n: number) => String(n).padStart(2, '0');

/** GLM: a UTC timestamp and 16 hex digits; Kimi: `chatcmpl-` and 24 hex digits. */
export function responseMeta(provider: ProviderName, model: string, now = new Date()): ResponseMeta {
  const stamp = `${now.getUTCFullYear()}${pad(now.getUTCMonth() + 1)}${pad(now.getUTCDate())}${pad(now.getUTCHours())}${pad(now.getUTCMinutes())}${pad(now.getUTCSeconds())}`;
  const id =
    provider === 'glm'
      ? stamp + randomBytes(8).toString('hex')
      : `chatcmpl-${randomBytes(12).toString('hex')}`;
  return { provider, id, created: Math.floor(now.getTime() / 1000), model };
}

function usage(provider: ProviderName, plan: AnswerPlan): Json {
  const reasoning = plan.reasoningTokens.length;
  const completion = plan.contentTokens.length + reasoning;
  const base = {
    prompt_tokens: plan.promptTokens,
    completion_tokens: completion,
    total_tokens: plan.promptTokens + completion,
  };
  if (provider === 'kimi') return { ...base, cached_tokens: 0 };
  return {
    ...base,
    prompt_tokens_details: { cached_tokens: 0 },
    ...(reasoning > 0 ? { completion_tokens_details: { reasoning_tokens: reasoning } } : {}),
  };
}

function glmChunk(meta: ResponseMeta, choice: Json, extra: Json = {}): Json {
  return {
    id: meta.id,
    created: meta.created,
    object: 'chat.completion.chunk',
    model: meta.model,
    choices: [choice],
    ...extra,
  };
}

function kimiChunk(meta: ResponseMeta, delta: Json, finish: string | null = null, extra: Json = {}): Json {
  return {
    id: meta.id,
    object: 'chat.completion.chunk',
    created: meta.created,
    model: meta.model,
    choices: [{ index: 0, delta, finish_reason: finish, ...extra }],
    system_fingerprint: KIMI_FINGERPRINT,
  };
}

/** Tool-call deltas: the whole call at once, or a head with empty arguments then fragments. */
function toolDeltas(plan: AnswerPlan, provider: ProviderName): Json[][] {
  const out: Json[][] = [];
  plan.toolCalls.forEach((call, index) => {
    const frags = plan.argumentFragments[index] ?? [];
    const name = call.function.name;
    if (frags.length === 0) {
      // GLM without tool_stream: one delta with the full arguments, key order as recorded.
      out.push([
        { id: call.id, index, type: 'function', function: { name, arguments: call.function.arguments } },
      ]);
      return;
    }
    const head =
      provider === 'kimi'
        ? { index, id: call.id, type: 'function', function: { name, arguments: '' } }
        : { id: call.id, index, type: 'function', function: { name, arguments: '' } };
    out.push([head]);
    for (const f of frags) out.push([{ index, function: { arguments: f } }]);
  });
  return out;
}

/**
 * The chunks of a streamed answer, lazily (an answer may be millions of tokens), ending with
 * the finish chunk. `data: [DONE]` is framing, not a chunk, and is left to the writer.
 */
export function* streamEvents(
  meta: ResponseMeta,
  plan: AnswerPlan,
  tokensPerChunk: number,
): Generator<StreamEvent> {
  const reasoning = group(plan.reasoningTokens, tokensPerChunk);
  const content = group(plan.contentTokens, tokensPerChunk);
  const tools = toolDeltas(plan, meta.provider);
  if (meta.provider === 'glm') {
    // GLM repeats the role on every text delta and omits finish_reason until the end.
    for (const r of reasoning) {
      yield {
        chunk: glmChunk(meta, { index: 0, delta: { role: 'assistant', reasoning_content: r } }),
        final: false,
      };
    }
    for (const c of content) {
      yield { chunk: glmChunk(meta, { index: 0, delta: { role: 'assistant', content: c } }), final: false };
    }
    for (const t of tools)
      yield { chunk: glmChunk(meta, { index: 0, delta: { tool_calls: t } }), final: false };
    const finish = { index: 0, finish_reason: plan.finishReason, delta: { role: 'assistant', content: '' } };
    yield { chunk: glmChunk(meta, finish, { usage: usage('glm', plan) }), final: true };
    return;
  }
  // Kimi: the role only on the first chunk, explicit nulls, usage inside the finishing choice.
  yield { chunk: kimiChunk(meta, { role: 'assistant', content: '' }), final: false };
  for (const r of reasoning) yield { chunk: kimiChunk(meta, { reasoning_content: r }), final: false };
  for (const c of content) yield { chunk: kimiChunk(meta, { content: c }), final: false };
  for (const t of tools) yield { chunk: kimiChunk(meta, { tool_calls: t }), final: false };
  yield { chunk: kimiChunk(meta, {}, plan.finishReason, { usage: usage('kimi', plan) }), final: true };
}

/** How many chunks `streamEvents` yields, without building them. */
export function countEvents(provider: ProviderName, plan: AnswerPlan, tokensPerChunk: number): number {
  const per = Math.max(1, tokensPerChunk);
  const text = Math.ceil(plan.reasoningTokens.length / per) + Math.ceil(plan.contentTokens.length / per);
  const tools = plan.argumentFragments.reduce((n, f) => n + (f.length === 0 ? 1 : f.length + 1), 0);
  return text + tools + 1 + (provider === 'kimi' ? 1 : 0);
}

/** A non-streaming `chat.completion`; both providers put usage at the top level here. */
export function completionBody(meta: ResponseMeta, plan: AnswerPlan): Json {
  const message: Json = { role: 'assistant', content: plan.content };
  if (plan.reasoning) message.reasoning_content = plan.reasoning;
  if (plan.toolCalls.length > 0) message.tool_calls = plan.toolCalls;
  const choice = { index: 0, message, finish_reason: plan.finishReason };
  const body: Json = {
    id: meta.id,
    object: 'chat.completion',
    created: meta.created,
    model: meta.model,
    choices: [choice],
    usage: usage(meta.provider, plan),
  };
  if (meta.provider === 'kimi') body.system_fingerprint = KIMI_FINGERPRINT;
  return body;
}

export const MODEL_IDS: Record<ProviderName, readonly string[]> = {
  glm: ['glm-4.6', 'glm-4.5', 'glm-4.5-air', 'glm-4.5-flash'],
  kimi: ['kimi-k2-0905-preview', 'kimi-k2-turbo-preview', 'kimi-k2-thinking', 'moonshot-v1-8k'],
};

/** Whether the provider would accept this model id. */
export function knownModel(provider: ProviderName, model: string): boolean {
  return provider === 'glm'
    ? model.startsWith('glm-')
    : model.startsWith('kimi-') || model.startsWith('moonshot-');
}

/** An OpenAI-style `GET /models` list. */
export function modelList(provider: ProviderName): Json {
  const owner = provider === 'glm' ? 'z-ai' : 'moonshot';
  return {
    object: 'list',
    data: MODEL_IDS[provider].map((id) => ({ id, object: 'model', created: 1_760_000_000, owned_by: owner })),
  };
}
