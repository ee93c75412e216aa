// The shape of one catalog entry: what exai knows about a model, and when and where that was checked.
import type { ProviderName } from '../../types.js';

/** `always`: reasons on every request and rejects turning it off; `optional`: on by default, can be off. */
export type ReasoningMode = 'always' | 'optional' | 'none';

export type ModelStatus = 'current' | 'legacy';

export interface ModelInfo {
  id: string;
  provider: ProviderName;
  /** Tokens the model reads at once (prompt + output). */
  contextWindow: number;
  /** Largest `max_tokens` the provider accepts for this model. */
  maxOutput: number;
  reasoning: ReasoningMode;
  /** The `reasoning_effort` values the model takes, where known. */
  reasoningEfforts?: readonly string[];
  /** Accepts image content parts (`image_url`); `video` also `video_url`. */
  vision: 'none' | 'image' | 'video';
  /** GLM: streams tool-call arguments with `tool_stream: true`. */
  toolStream: boolean;
  /** `legacy`: still served but superseded, or reported retired; never a default. */
  status: ModelStatus;
  description: string;
  /** When this entry was last checked (YYYY-MM-DD) and where. */
  checked: string;
  source: string;
}

/** A model id the provider has retired (requests with it fail), with the model to use instead. */
export interface RetiredModel {
  id: string;
  provider: ProviderName;
  /** YYYY-MM-DD, as the provider announced it. */
  retired: string;
  use: string;
  source: string;
}
