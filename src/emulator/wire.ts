// GLM and Kimi wire JSON: stream chunks, non-streaming completions, usage and model lists. Pure.
// Shapes follow /work/shared/research/provider-wire-formats.md (GLM 2026 variant with `object`).
import { randomBytes } from 'node:crypto';
import type { Json } from '../json.js';
import { modelsOf } from '../providers/catalog.js';
import type { ProviderName } from '../types.js';
import type { AnswerPlan } from './answer.js';
import { group } from './text.js';

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

/**
 * Tool-call deltas: the whole call at once, or a head with empty arguments then fragments. GLM
 * without `tool_stream` (2026) sends each whole call with `index: -1`.
 */
function toolDeltas(plan: AnswerPlan, provider: ProviderName): Json[][] {
  const out: Json[][] = [];
  plan.toolCalls.forEach((call, index) => {
    const frags = plan.argumentFragments[index] ?? [];
    const name = call.function.name;
    if (frags.length === 0) {
      // GLM without tool_stream: one delta with the full arguments, key order as recorded.
      const i = provider === 'glm' ? -1 : index;
      out.push([
        { id: call.id, index: i, type: 'function', function: { name, arguments: call.function.arguments } },
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

/** Wire variations of one stream that real responses show. */
export interface StreamShape {
  /** Usage in its own `choices: []` chunk after the finish chunk (Kimi: in the choice too). */
  separateUsage: boolean;
}

/** The top-level `choices: []` chunk that carries only usage. */
function usageChunk(meta: ResponseMeta, plan: AnswerPlan): Json {
  return {
    id: meta.id,
    created: meta.created,
    object: 'chat.completion.chunk',
    model: meta.model,
    choices: [],
    usage: usage(meta.provider, plan),
  };
}

/** GLM's closing chunk: `finish_reason` with an empty content delta, usage unless it comes apart. */
export function glmFinishChunk(
  meta: ResponseMeta,
  plan: AnswerPlan,
  reason: string,
  withUsage: boolean,
): Json {
  const finish = { index: 0, finish_reason: reason, delta: { role: 'assistant', content: '' } };
  return glmChunk(meta, finish, withUsage ? { usage: usage('glm', plan) } : {});
}

/** Kimi's closing chunk: usage inside the finishing choice. */
export function kimiFinishChunk(meta: ResponseMeta, plan: AnswerPlan, reason: string): Json {
  return kimiChunk(meta, {}, reason, { usage: usage('kimi', plan) });
}

/**
 * The chunks of a streamed answer, lazily (an answer may be millions of tokens), ending with
 * the finish chunk (and a usage chunk after it where the shape asks). `data: [DONE]` is framing,
 * not a chunk, and is left to the writer.
 */
export function* streamEvents(
  meta: ResponseMeta,
  plan: AnswerPlan,
  tokensPerChunk: number,
  shape: StreamShape = { separateUsage: false },
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
    // A whole (one-frame) tool call carries the finish reason itself; its usage follows apart.
    const oneFrame = tools.length > 0 && plan.argumentFragments.every((f) => f.length === 0);
    for (const [i, t] of tools.entries()) {
      const last = oneFrame && i === tools.length - 1;
      const choice = last
        ? { index: 0, finish_reason: plan.finishReason, delta: { tool_calls: t } }
        : { index: 0, delta: { tool_calls: t } };
      yield { chunk: glmChunk(meta, choice), final: last };
    }
    if (oneFrame) {
      yield { chunk: usageChunk(meta, plan), final: false };
      return;
    }
    yield { chunk: glmFinishChunk(meta, plan, plan.finishReason, !shape.separateUsage), final: true };
    if (shape.separateUsage) yield { chunk: usageChunk(meta, plan), final: false };
    return;
  }
  // Kimi: the role only on the first chunk, explicit nulls, usage inside the finishing choice.
  yield { chunk: kimiChunk(meta, { role: 'assistant', content: '' }), final: false };
  for (const r of reasoning) yield { chunk: kimiChunk(meta, { reasoning_content: r }), final: false };
  for (const c of content) yield { chunk: kimiChunk(meta, { content: c }), final: false };
  for (const t of tools) yield { chunk: kimiChunk(meta, { tool_calls: t }), final: false };
  yield { chunk: kimiFinishChunk(meta, plan, plan.finishReason), final: true };
  if (shape.separateUsage) yield { chunk: usageChunk(meta, plan), final: false };
}

/** How many chunks `streamEvents` yields, without building them. */
export function countEvents(
  provider: ProviderName,
  plan: AnswerPlan,
  tokensPerChunk: number,
  shape: StreamShape = { separateUsage: false },
): number {
  const per = Math.max(1, tokensPerChunk);
  const text = Math.ceil(plan.reasoningTokens.length / per) + Math.ceil(plan.contentTokens.length / per);
  const tools = plan.argumentFragments.reduce((n, f) => n + (f.length === 0 ? 1 : f.length + 1), 0);
  const oneFrame = provider === 'glm' && tools > 0 && plan.argumentFragments.every((f) => f.length === 0);
  if (oneFrame) return text + tools + 1;
  return text + tools + 1 + (provider === 'kimi' ? 1 : 0) + (shape.separateUsage ? 1 : 0);
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

/** The ids each provider's `GET /models` lists: the catalog's current models. */
export const MODEL_IDS: Record<ProviderName, readonly string[]> = {
  glm: modelsOf('glm')
    .filter((m) => m.status === 'current')
    .map((m) => m.id),
  kimi: modelsOf('kimi')
    .filter((m) => m.status === 'current')
    .map((m) => m.id),
};

/** Whether the provider would accept this model id. */
export function knownModel(provider: ProviderName, model: string): boolean {
  return provider === 'glm'
    ? model.startsWith('glm-')
    : model.startsWith('kimi-') || model.startsWith('moonshot-');
}

/** An OpenAI-style `GET /models` list. */
export function modelList(provider: ProviderName, ids: readonly string[] = MODEL_IDS[provider]): Json {
  const owner = provider === 'glm' ? 'z-ai' : 'moonshot';
  return {
    object: 'list',
    data: ids.map((id) => ({ id, object: 'model', created: 1_760_000_000, owned_by: owner })),
  };
}
