// The models each provider serves, with context windows, for routing, `exai models` and `listmodels`.
import type { Config } from '../config/index.js';
import type { ProviderName } from '../types.js';

export interface ModelInfo {
  id: string;
  provider: ProviderName;
  contextWindow: number;
  /** Streams `reasoning_content` before the answer by default. */
  reasoning: boolean;
  description: string;
}

export const MODELS: readonly ModelInfo[] = [
  {
    id: 'glm-4.6',
    provider: 'glm',
    contextWindow: 204_800,
    reasoning: true,
    description: 'GLM flagship, hybrid thinking',
  },
  {
    id: 'glm-4.5',
    provider: 'glm',
    contextWindow: 131_072,
    reasoning: true,
    description: 'GLM 4.5, hybrid thinking',
  },
  {
    id: 'glm-4.5-air',
    provider: 'glm',
    contextWindow: 131_072,
    reasoning: true,
    description: 'lighter GLM 4.5',
  },
  {
    id: 'glm-4.5-flash',
    provider: 'glm',
    contextWindow: 131_072,
    reasoning: false,
    description: 'fast, low-cost GLM',
  },
  {
    id: 'glm-4.5v',
    provider: 'glm',
    contextWindow: 65_536,
    reasoning: false,
    description: 'GLM vision model',
  },
  {
    id: 'kimi-k2-0905-preview',
    provider: 'kimi',
    contextWindow: 262_144,
    reasoning: false,
    description: 'Kimi K2 (0905)',
  },
  {
    id: 'kimi-k2-turbo-preview',
    provider: 'kimi',
    contextWindow: 262_144,
    reasoning: false,
    description: 'faster Kimi K2',
  },
  {
    id: 'kimi-k2-thinking',
    provider: 'kimi',
    contextWindow: 262_144,
    reasoning: true,
    description: 'Kimi K2 with reasoning',
  },
  {
    id: 'moonshot-v1-8k',
    provider: 'kimi',
    contextWindow: 8_192,
    reasoning: false,
    description: 'Moonshot v1, 8K context',
  },
  {
    id: 'moonshot-v1-32k',
    provider: 'kimi',
    contextWindow: 32_768,
    reasoning: false,
    description: 'Moonshot v1, 32K context',
  },
  {
    id: 'moonshot-v1-128k',
    provider: 'kimi',
    contextWindow: 131_072,
    reasoning: false,
    description: 'Moonshot v1, 128K context',
  },
];

export function modelsOf(provider: ProviderName): ModelInfo[] {
  return MODELS.filter((m) => m.provider === provider);
}

export function findModel(id: string): ModelInfo | undefined {
  return MODELS.find((m) => m.id === id);
}

/** One catalog model as `exai models` and the `listmodels` tool show it, with this configuration. */
export interface ModelRow {
  provider: ProviderName;
  model: string;
  contextWindow: number;
  reasoning: boolean;
  default: boolean;
  streaming: boolean;
  keySet: boolean;
}

export function modelRows(config: Config): ModelRow[] {
  return MODELS.map((m) => ({
    provider: m.provider,
    model: m.id,
    contextWindow: m.contextWindow,
    reasoning: m.reasoning,
    default: config[m.provider].defaultModel === m.id,
    streaming: config[m.provider].streamEnabled,
    keySet: Boolean(config[m.provider].apiKey),
  }));
}
