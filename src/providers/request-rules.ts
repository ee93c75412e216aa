// Checks of a request against what the catalog knows of its model: values the provider is known to
// reject become a clear UsageError before any request. An unknown model is not checked.
import { UsageError } from '../errors.js';
import { isObject } from '../json.js';
import type { ChatCompletionCreateParams } from '../types.js';
import { findModel } from './catalog.js';

/** The content-part types a request's messages use (`image_url`, `video_url`, ...). */
function partTypes(params: ChatCompletionCreateParams): Set<string> {
  const types = new Set<string>();
  for (const m of params.messages) {
    if (Array.isArray(m.content)) for (const p of m.content) if (isObject(p)) types.add(String(p.type));
  }
  return types;
}

/**
 * `thinking` as the provider types it: `{ type: "enabled" | "disabled" }`, plus GLM's optional
 * boolean `clear_thinking`.
 */
export function checkThinking(thinking: unknown, clearThinking: boolean): void {
  if (thinking === undefined) return;
  const t = thinking as { type?: unknown; clear_thinking?: unknown } | null;
  if (typeof t !== 'object' || t === null || (t.type !== 'enabled' && t.type !== 'disabled')) {
    const extra = clearThinking ? ', clear_thinking?: boolean' : '';
    throw new UsageError(`thinking must be { type: "enabled" | "disabled"${extra} }`);
  }
  if (clearThinking && t.clear_thinking !== undefined && typeof t.clear_thinking !== 'boolean') {
    throw new UsageError('thinking.clear_thinking must be a boolean');
  }
}

export function checkCatalogLimits(params: ChatCompletionCreateParams, model: string): void {
  const info = findModel(model);
  if (!info) return;
  const thinking = params.thinking;
  if (info.reasoning === 'always' && isObject(thinking) && thinking.type === 'disabled') {
    throw new UsageError(`${model} always reasons: thinking cannot be disabled (omit "thinking")`);
  }
  const effort = params.reasoning_effort;
  if (effort !== undefined && info.reasoningEfforts?.length === 0) {
    throw new UsageError(`${model} does not take reasoning_effort (leave it out)`);
  }
  if (
    effort !== undefined &&
    info.reasoningEfforts !== undefined &&
    !info.reasoningEfforts.includes(effort)
  ) {
    throw new UsageError(
      `${model} takes reasoning_effort ${info.reasoningEfforts.map((e) => `"${e}"`).join(', ')}, not ${JSON.stringify(effort)}`,
    );
  }
  const types = partTypes(params);
  if (types.has('image_url') && info.vision === 'none') {
    throw new UsageError(`${model} does not read images: use a vision model (see \`exai models\`)`);
  }
  if (types.has('video_url') && info.vision !== 'video') {
    throw new UsageError(`${model} does not read video: use a model with video input (see \`exai models\`)`);
  }
}
