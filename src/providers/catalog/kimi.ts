// Kimi (Moonshot) models. Data only: one row per model id, with the date and source it was checked.
// Model ids rotate (Moonshot retires on short notice); an id missing here is still sent as it is.
import type { ModelInfo, RetiredModel } from './types.js';

const CHECKED = '2026-12-01';
const K256 = 262_144;
const M1 = 1_048_576;

// Sources, as read on the date above (P = Moonshot's own page or code, P-quoted = its text quoted in a
// public issue because the page itself was not readable, obs = a reported live request).
const K3 =
  'P-quoted platform.kimi.ai/docs/guide/kimi-k3-quickstart and use-reasoning-effort (lobehub#17267, cherry-studio#20036)';
const K27 =
  'P platform.kimi.ai/docs/guide/use-kimi-k2-thinking-model (thinking only "enabled"); P-quoted kimi.com/code docs (32,768 output, models.dev#2264)';
const K26 = 'P platform.kimi.ai/docs/guide/kimi-k2-6-quickstart and /docs/api/models-overview';
const LISTED =
  'obs GET api.moonshot.ai/v1/models on 2026-09-02 listed kimi-k3, kimi-k2.7-code(-highspeed), kimi-k2.6';

type Row = Omit<ModelInfo, 'provider' | 'checked'>;

const ROWS: Row[] = [
  {
    id: 'kimi-k2.6',
    contextWindow: K256,
    maxOutput: K256,
    reasoning: 'optional',
    reasoningEfforts: [],
    vision: 'video',
    toolStream: false,
    status: 'current',
    description: 'Kimi K2.6, general; thinking on by default, can be disabled',
    source: `${K26}; ${LISTED}`,
  },
  {
    id: 'kimi-k3',
    contextWindow: M1,
    maxOutput: M1,
    reasoning: 'always',
    reasoningEfforts: ['low', 'high', 'max'],
    vision: 'video',
    toolStream: false,
    status: 'current',
    description: 'Kimi K3 flagship (2026-07), always reasons; reasoning_effort low/high/max',
    source: `${K3}; ${LISTED}`,
  },
  {
    id: 'kimi-k2.7-code',
    contextWindow: K256,
    maxOutput: 32_768,
    reasoning: 'always',
    reasoningEfforts: [],
    vision: 'video',
    toolStream: false,
    status: 'current',
    description: 'Kimi K2.7 for coding, always reasons',
    source: `${K27}; ${LISTED}`,
  },
  {
    id: 'kimi-k2.7-code-highspeed',
    contextWindow: K256,
    maxOutput: 32_768,
    reasoning: 'always',
    reasoningEfforts: [],
    vision: 'video',
    toolStream: false,
    status: 'current',
    description: 'faster Kimi K2.7 for coding',
    source: `${K27}; ${LISTED}`,
  },
];

export const KIMI_MODELS: readonly ModelInfo[] = ROWS.map((row) => ({
  ...row,
  provider: 'kimi',
  checked: CHECKED,
}));

const RETIREMENTS =
  'P-quoted platform.kimi.ai/docs/models (models.dev#6101, chatcli#1344); obs 404 probes 2026-09-02';

/** Ids Moonshot retired: requests with them fail, so exai warns and names a successor. */
export const KIMI_RETIRED: readonly RetiredModel[] = [
  ...['kimi-k2-0905-preview', 'kimi-k2-0711-preview', 'kimi-k2-turbo-preview'].map((id) => ({
    id,
    retired: '2026-05-25',
    use: 'kimi-k2.6',
  })),
  ...['kimi-k2-thinking', 'kimi-k2-thinking-turbo'].map((id) => ({
    id,
    retired: '2026-05-25',
    use: 'kimi-k3',
  })),
  { id: 'kimi-latest', retired: '2026-01-28', use: 'kimi-k2.6' },
  { id: 'kimi-k2.5', retired: '2026-08-31', use: 'kimi-k2.6' },
  ...['moonshot-v1-8k', 'moonshot-v1-32k', 'moonshot-v1-128k', 'moonshot-v1-auto'].map((id) => ({
    id,
    retired: '2026-08-31',
    use: 'kimi-k2.6',
  })),
  ...['8k', '32k', '128k'].map((size) => ({
    id: `moonshot-v1-${size}-vision-preview`,
    retired: '2026-08-31',
    use: 'kimi-k2.6',
  })),
].map((r) => ({ ...r, provider: 'kimi' as const, source: RETIREMENTS }));

/** The general model `KIMI_DEFAULT_MODEL` defaults to: current, never a retired id. */
export const KIMI_DEFAULT = 'kimi-k2.6';
