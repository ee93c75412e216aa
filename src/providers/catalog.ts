// The catalog: what exai knows about each provider's models (data in glm.ts / kimi.ts), for
// defaults, request checks, `exai models` and `listmodels`. A model it does not know is still sent.
import type { Config } from '../config/index.js';
import type { ProviderName } from '../types.js';
import { GLM_DEFAULT, GLM_MODELS } from './catalog/glm.js';
import { KIMI_DEFAULT, KIMI_MODELS, KIMI_RETIRED } from './catalog/kimi.js';
import type { ModelInfo, ModelStatus, ReasoningMode, RetiredModel } from './catalog/types.js';

export type { ModelInfo, ModelStatus, ReasoningMode, RetiredModel } from './catalog/types.js';

export const MODELS: readonly ModelInfo[] = [...GLM_MODELS, ...KIMI_MODELS];

/** Each provider's default model: a current general model of the catalog. */
export const DEFAULT_MODELS: Readonly<Record<ProviderName, string>> = {
  glm: GLM_DEFAULT,
  kimi: KIMI_DEFAULT,
};

const BY_ID = new Map(MODELS.map((m) => [m.id, m]));

/** Ids the providers have retired (GLM re-routes its old ids instead of retiring them). */
export const RETIRED: readonly RetiredModel[] = KIMI_RETIRED;

const RETIRED_BY_ID = new Map(RETIRED.map((r) => [r.id, r]));

/** The retirement of `id`, if the provider retired it. */
export function findRetired(id: string): RetiredModel | undefined {
  return RETIRED_BY_ID.get(id) ?? RETIRED_BY_ID.get(id.trim().toLowerCase());
}

export function modelsOf(provider: ProviderName): ModelInfo[] {
  return MODELS.filter((m) => m.provider === provider);
}

/** The catalog entry of `id` (ids are matched as the providers spell them, case-insensitively). */
export function findModel(id: string): ModelInfo | undefined {
  return BY_ID.get(id) ?? BY_ID.get(id.trim().toLowerCase());
}

/** One catalog model as `exai models` and the `listmodels` tool show it, with this configuration. */
export interface ModelRow {
  provider: ProviderName;
  model: string;
  contextWindow: number;
  maxOutput: number;
  reasoning: ReasoningMode;
  vision: ModelInfo['vision'];
  status: ModelStatus;
  checked: string;
  default: boolean;
  streaming: boolean;
  keySet: boolean;
  /** With a live listing: whether the provider's `GET /models` still lists this id. */
  listed?: boolean;
}

export function modelRows(config: Config): ModelRow[] {
  return MODELS.map((m) => ({
    provider: m.provider,
    model: m.id,
    contextWindow: m.contextWindow,
    maxOutput: m.maxOutput,
    reasoning: m.reasoning,
    vision: m.vision,
    status: m.status,
    checked: m.checked,
    default: config[m.provider].defaultModel === m.id,
    streaming: config[m.provider].streamEnabled,
    keySet: Boolean(config[m.provider].apiKey),
  }));
}

/** The rows with `listed` set where a live listing answered (a provider without one is left as is). */
export function withLive(
  rows: ModelRow[],
  listings: ReadonlyArray<{ provider: ProviderName; listed: string[] | null }>,
): ModelRow[] {
  const sets = new Map(listings.filter((l) => l.listed).map((l) => [l.provider, new Set(l.listed)]));
  return rows.map((r) => {
    const set = sets.get(r.provider);
    return set ? { ...r, listed: set.has(r.model) } : r;
  });
}

/** A token count as the providers write it: 200K, 128K, 1M. */
export function tokensLabel(n: number): string {
  if (n >= 1_048_576 && n % 1_048_576 === 0) return `${n / 1_048_576}M`;
  return n % 1024 === 0 ? `${n / 1024}K` : `${Math.round(n / 1000)}K`;
}
