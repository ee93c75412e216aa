// Kimi (Moonshot) models. Data only: one row per model id, with the date and source it was checked.
// Model ids rotate; an id missing here is still sent as it is.
import type { ModelInfo } from './types.js';

const CHECKED = '2026-12-01';
const DOCS = 'https://platform.moonshot.ai/docs/pricing/chat';
const NOTE = 'shared/research/providers-2026.md (third-party pages, 2026)';

type Row = Omit<ModelInfo, 'provider' | 'checked' | 'source'> & { source?: string };

const ROWS: Row[] = [
  {
    id: 'kimi-k2.6',
    contextWindow: 262_144,
    maxOutput: 65_536,
    reasoning: 'optional',
    vision: 'video',
    toolStream: false,
    status: 'current',
    description: 'Kimi K2.6, general, thinking on by default',
  },
  {
    id: 'kimi-k3',
    contextWindow: 262_144,
    maxOutput: 65_536,
    reasoning: 'always',
    vision: 'image',
    toolStream: false,
    status: 'current',
    description: 'Kimi K3 flagship, always reasons (reasoning_effort low/high/max)',
  },
  {
    id: 'kimi-k2.7-code',
    contextWindow: 262_144,
    maxOutput: 65_536,
    reasoning: 'always',
    vision: 'none',
    toolStream: false,
    status: 'current',
    description: 'Kimi K2.7 for coding, always reasons',
  },
  {
    id: 'kimi-k2.7-code-highspeed',
    contextWindow: 262_144,
    maxOutput: 65_536,
    reasoning: 'always',
    vision: 'none',
    toolStream: false,
    status: 'current',
    description: 'faster Kimi K2.7 for coding',
  },
  {
    id: 'kimi-k2.5',
    contextWindow: 262_144,
    maxOutput: 65_536,
    reasoning: 'optional',
    vision: 'image',
    toolStream: false,
    status: 'current',
    description: 'Kimi K2.5, thinking on by default',
  },
  {
    id: 'moonshot-v1-8k',
    contextWindow: 8_192,
    maxOutput: 8_192,
    reasoning: 'none',
    vision: 'none',
    toolStream: false,
    status: 'legacy',
    description: 'Moonshot v1, 8K context',
  },
  {
    id: 'moonshot-v1-32k',
    contextWindow: 32_768,
    maxOutput: 32_768,
    reasoning: 'none',
    vision: 'none',
    toolStream: false,
    status: 'legacy',
    description: 'Moonshot v1, 32K context',
  },
  {
    id: 'moonshot-v1-128k',
    contextWindow: 131_072,
    maxOutput: 131_072,
    reasoning: 'none',
    vision: 'none',
    toolStream: false,
    status: 'legacy',
    description: 'Moonshot v1, 128K context',
  },
  {
    id: 'moonshot-v1-8k-vision-preview',
    contextWindow: 8_192,
    maxOutput: 8_192,
    reasoning: 'none',
    vision: 'image',
    toolStream: false,
    status: 'legacy',
    description: 'Moonshot v1 vision, 8K context',
  },
  {
    id: 'moonshot-v1-32k-vision-preview',
    contextWindow: 32_768,
    maxOutput: 32_768,
    reasoning: 'none',
    vision: 'image',
    toolStream: false,
    status: 'legacy',
    description: 'Moonshot v1 vision, 32K context',
  },
  {
    id: 'moonshot-v1-128k-vision-preview',
    contextWindow: 131_072,
    maxOutput: 131_072,
    reasoning: 'none',
    vision: 'image',
    toolStream: false,
    status: 'legacy',
    description: 'Moonshot v1 vision, 128K context',
  },
  {
    id: 'moonshot-v1-auto',
    contextWindow: 131_072,
    maxOutput: 131_072,
    reasoning: 'none',
    vision: 'none',
    toolStream: false,
    status: 'legacy',
    description: 'Moonshot v1, context size chosen by prompt length',
  },
];

export const KIMI_MODELS: readonly ModelInfo[] = ROWS.map(({ source, ...row }) => ({
  ...row,
  provider: 'kimi',
  checked: CHECKED,
  source: source ?? `${DOCS}; ${NOTE}`,
}));

/** The general model `KIMI_DEFAULT_MODEL` defaults to: current, never a retired id. */
export const KIMI_DEFAULT = 'kimi-k2.6';
