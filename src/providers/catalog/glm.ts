// GLM (Z.ai / BigModel) models. Data only: one row per model id, with the date and source it was checked.
// Model ids rotate; an id missing here is still sent as it is. Z.ai states limits as "200K", "1M",
// "128K": 200K is kept as 200,000 (catalogs disagree between 200,000 and 204,800), the others as
// powers of two (1,048,576 and 131,072). glm-5.4 is left out: no Z.ai page documents it (only
// third-party client catalogs do), so nothing here may claim its limits.
import type { ModelInfo } from './types.js';

const CHECKED = '2026-12-01';
const K200 = 200_000;
const M1 = 1_048_576;
const K128 = 131_072;

// Sources, as read on the date above (P = the provider's own page or code, P-quoted = its text quoted
// in a public issue because the page itself was not readable, 3P = third-party catalogs only).
const GLM53 =
  'P-quoted docs.z.ai/guides/llm/glm-5.3 and docs.z.ai/guides/capabilities/thinking (quoted in catwalk#603, models.dev#5410); 1210 on thinking disabled seen in hermes-agent#97286';
const GLM53F =
  'P-quoted docs.z.ai/guides/vlm/glm-5.3-flash (quoted in octo-agent#2317); image probe llmgateway#3853';
const CODING =
  'P-quoted docs.bigmodel.cn/cn/coding-plan/overview (pi#9616): the Coding Plan routes this id to glm-5.3 / glm-5.3-flash';
const GLM45 = 'P docs.z.ai/guides/llm/glm-4.5';
const STREAM_TOOL = 'P docs.z.ai/guides/capabilities/stream-tool';

type Row = Omit<ModelInfo, 'provider' | 'checked'>;

const ROWS: Row[] = [
  {
    id: 'glm-5.3',
    contextWindow: M1,
    maxOutput: K128,
    reasoning: 'always',
    reasoningEfforts: ['low', 'high', 'max'],
    vision: 'none',
    toolStream: true,
    status: 'current',
    description: 'GLM flagship (pay-as-you-go and Coding Plan), always reasons; effort low/high/max',
    source: GLM53,
  },
  {
    id: 'glm-5.3-flash',
    contextWindow: M1,
    maxOutput: K128,
    reasoning: 'always',
    reasoningEfforts: ['low', 'high', 'max'],
    vision: 'video',
    toolStream: true,
    status: 'current',
    description: 'fast, low-cost GLM-5.3 with image, video and file input',
    source: GLM53F,
  },
  {
    id: 'glm-5v-turbo',
    contextWindow: K200,
    maxOutput: K128,
    reasoning: 'optional',
    vision: 'video',
    toolStream: true,
    status: 'current',
    description: 'GLM-5 vision coding model (2026-04)',
    source: 'P docs.z.ai/guides/vlm/glm-5v-turbo',
  },
  {
    id: 'glm-5.2',
    contextWindow: M1,
    maxOutput: K128,
    reasoning: 'optional',
    reasoningEfforts: ['max', 'xhigh', 'high', 'medium', 'low', 'minimal', 'none'],
    vision: 'none',
    toolStream: true,
    status: 'legacy',
    description: 'GLM-5.2, hybrid thinking',
    source: `3P docs.cloudsway.net, docs.anyfast.ai; ${CODING}`,
  },
  {
    id: 'glm-5.1',
    contextWindow: K200,
    maxOutput: K128,
    reasoning: 'optional',
    vision: 'none',
    toolStream: true,
    status: 'legacy',
    description: 'GLM-5.1, hybrid thinking',
    source: `P docs.z.ai/guides/llm/glm-5.1; ${CODING}`,
  },
  {
    id: 'glm-5-turbo',
    contextWindow: K200,
    maxOutput: K128,
    reasoning: 'optional',
    vision: 'none',
    toolStream: true,
    status: 'legacy',
    description: 'GLM-5 Turbo, hybrid thinking',
    source: `P docs.z.ai/guides/llm/glm-5-turbo; ${CODING}`,
  },
  {
    id: 'glm-5',
    contextWindow: K200,
    maxOutput: K128,
    reasoning: 'optional',
    vision: 'none',
    toolStream: true,
    status: 'legacy',
    description: 'GLM-5 (2026-02), hybrid thinking',
    source: `${STREAM_TOOL}; 3P models.dev#855 (limits)`,
  },
  {
    id: 'glm-4.7',
    contextWindow: K200,
    maxOutput: K128,
    reasoning: 'optional',
    vision: 'none',
    toolStream: true,
    status: 'legacy',
    description: 'GLM-4.7 (2025-12), thinking on by default',
    source: `P docs.z.ai/guides/llm/glm-4.7; ${STREAM_TOOL}; ${CODING}`,
  },
  {
    id: 'glm-4.7-flash',
    contextWindow: K200,
    maxOutput: K128,
    reasoning: 'optional',
    vision: 'none',
    toolStream: true,
    status: 'current',
    description: 'fast, low-cost GLM-4.7 (pay-as-you-go)',
    source: 'P docs.z.ai/guides/llm/glm-4.7 (FlashX tab); 3P openclaw (limits)',
  },
  {
    id: 'glm-4.6',
    contextWindow: K200,
    maxOutput: K128,
    reasoning: 'optional',
    vision: 'none',
    toolStream: true,
    status: 'legacy',
    description: 'GLM-4.6, hybrid thinking',
    source: `P docs.bigmodel.cn thinking-mode; ${STREAM_TOOL}`,
  },
  {
    id: 'glm-4.6v',
    contextWindow: 131_072,
    maxOutput: 32_768,
    reasoning: 'optional',
    vision: 'video',
    toolStream: false,
    status: 'legacy',
    description: 'GLM-4.6 vision model',
    source: '3P skillmd.ai, vercel.com/ai-gateway (limits; output figure uncertain)',
  },
  {
    id: 'glm-4.6v-flash',
    contextWindow: 131_072,
    maxOutput: 16_384,
    reasoning: 'optional',
    vision: 'video',
    toolStream: false,
    status: 'current',
    description: 'free GLM-4.6 vision model',
    source: '3P docs.empiriolabs.ai, therouter (limits uncertain)',
  },
  {
    id: 'glm-4.5',
    contextWindow: 131_072,
    maxOutput: 98_304,
    reasoning: 'optional',
    vision: 'none',
    toolStream: false,
    status: 'legacy',
    description: 'GLM-4.5, hybrid thinking',
    source: GLM45,
  },
  {
    id: 'glm-4.5-air',
    contextWindow: 131_072,
    maxOutput: 98_304,
    reasoning: 'optional',
    vision: 'none',
    toolStream: false,
    status: 'legacy',
    description: 'lighter GLM-4.5',
    source: GLM45,
  },
  {
    id: 'glm-4.5-flash',
    contextWindow: 131_072,
    maxOutput: 98_304,
    reasoning: 'optional',
    vision: 'none',
    toolStream: false,
    status: 'current',
    description: 'free-tier GLM-4.5',
    source: GLM45,
  },
  {
    id: 'glm-4.5v',
    contextWindow: 65_536,
    maxOutput: 16_384,
    reasoning: 'optional',
    vision: 'image',
    toolStream: false,
    status: 'legacy',
    description: 'GLM-4.5 vision model',
    source: 'P-quoted docs.z.ai chat-completion max_tokens text (16K output)',
  },
];

export const GLM_MODELS: readonly ModelInfo[] = ROWS.map((row) => ({
  ...row,
  provider: 'glm',
  checked: CHECKED,
}));

/** The general model `GLM_DEFAULT_MODEL` defaults to: current on both plans, never re-routed. */
export const GLM_DEFAULT = 'glm-5.3';
