// Tool input and output schemas (zod, published as JSON Schema), with descriptions written for the
// model that calls the tools.
import { z } from 'zod';
import { MODELS } from '../providers/catalog.js';
import { MAX_TOKENS_CEILING, TEMPERATURE } from '../request-checks.js';
import type { ProviderName } from '../types.js';

const modelList = (provider: ProviderName) =>
  MODELS.filter((m) => m.provider === provider)
    .map((m) => m.id)
    .join(', ');

export const CHAT_DESCRIPTION =
  'Ask a GLM (Z.ai) or Kimi (Moonshot) model and get its complete answer. ' +
  'The answer streams live as progress notifications while it is generated; the result always ' +
  'holds the whole answer. Give a model id to choose the model (its provider is inferred from ' +
  'the name), or only a provider to use its default model, or neither for the default provider. ' +
  'Call `listmodels` to see which models and providers are configured. If the provider fails ' +
  'mid-answer, the result holds the partial answer (metadata.interrupted) and a second text item ' +
  'says why.';

export const chatInput = z.strictObject({
  prompt: z
    .string({ error: 'prompt is required: the question or instruction for the model' })
    .min(1, 'prompt must not be empty')
    .describe('The question or instruction for the model (the user message).'),
  model: z
    .string()
    .trim()
    .min(1, 'model must not be empty; omit it to use the default model')
    .optional()
    .describe(
      `Model id. GLM: ${modelList('glm')}. Kimi: ${modelList('kimi')}. ` +
        'The provider follows from the name: glm-* → GLM, kimi-* and moonshot-* → Kimi. ' +
        "Omit to use the provider's default model.",
    ),
  provider: z
    .enum(['glm', 'kimi'], { error: 'provider must be "glm" or "kimi"' })
    .optional()
    .describe(
      'Only needed without `model`: whose default model to use. Default: glm if GLM_API_KEY is set, ' +
        'else kimi if KIMI_API_KEY is set.',
    ),
  system_prompt: z.string().optional().describe('Optional system message that sets role, tone or rules.'),
  temperature: z
    .number()
    .min(TEMPERATURE.min, `temperature must be between ${TEMPERATURE.min} and ${TEMPERATURE.max}`)
    .max(TEMPERATURE.max, `temperature must be between ${TEMPERATURE.min} and ${TEMPERATURE.max}`)
    .optional()
    .describe('Sampling temperature; lower is more focused. Default: the provider default.'),
  max_tokens: z
    .number()
    .int('max_tokens must be a whole number')
    .min(1, 'max_tokens must be at least 1')
    .max(MAX_TOKENS_CEILING, `max_tokens must be at most ${MAX_TOKENS_CEILING}`)
    .optional()
    .describe('Upper limit on the length of the answer, in tokens.'),
  stream: z
    .boolean()
    .optional()
    .describe(
      'Default true: stream from the provider (live progress). false: one non-streaming request; ' +
        'the result is the same.',
    ),
  show_reasoning: z
    .boolean()
    .optional()
    .describe(
      "Default false. true: also return the model's reasoning (thinking models only) and stream it as progress.",
    ),
});

export type ChatInput = z.infer<typeof chatInput>;

const usage = z.looseObject({
  prompt_tokens: z.number(),
  completion_tokens: z.number(),
  total_tokens: z.number(),
});

const metadata = z.object({
  provider: z.enum(['glm', 'kimi']),
  model: z.string(),
  streamed: z.boolean().describe('true when the answer was delivered by streaming'),
  chunks: z.number(),
  ttftMs: z.number().nullable().describe('request start → first token, ms'),
  durationMs: z.number(),
  retries: z.number(),
  requests: z.number().describe('HTTP requests the call made in all'),
  fallback: z
    .object({ reason: z.string(), afterChunks: z.number() })
    .nullable()
    .describe('set when streaming was abandoned for a non-streaming request'),
  recovered: z.boolean().describe('a broken stream was completed by a follow-up request'),
  interrupted: z.boolean().describe('the answer is partial; `error` says why'),
  providerFinishReason: z
    .string()
    .optional()
    .describe("the provider's own finish reason, where it differs from finish_reason"),
});

export const chatOutput = z.object({
  content: z.string().describe('The answer.'),
  reasoning: z.string().optional().describe('The reasoning, with show_reasoning.'),
  finish_reason: z.string().nullable(),
  usage: usage.optional(),
  metadata,
  error: z
    .object({ code: z.string(), message: z.string() })
    .optional()
    .describe('Why the answer is partial (metadata.interrupted).'),
});

export type ChatOutput = z.infer<typeof chatOutput>;

export const LISTMODELS_DESCRIPTION =
  'List the GLM and Kimi models this server can use: provider, context window, output limit, ' +
  'reasoning, vision, status, the date each entry was checked, which is the default, whether ' +
  'streaming is on and whether the API key is set. With live: true, also what each provider lists now.';

export const listModelsInput = z.strictObject({
  live: z
    .boolean()
    .optional()
    .describe(
      "Also ask each provider's GET /models which ids it serves now (marks catalog entries it no longer lists).",
    ),
});

export const modelRow = z.object({
  provider: z.enum(['glm', 'kimi']),
  model: z.string(),
  contextWindow: z.number(),
  maxOutput: z.number(),
  reasoning: z.enum(['always', 'optional', 'none']),
  vision: z.enum(['none', 'image', 'video']),
  status: z.enum(['current', 'legacy']),
  checked: z.string().describe('date the catalog entry was checked'),
  default: z.boolean(),
  streaming: z.boolean(),
  keySet: z.boolean(),
  listed: z.boolean().optional().describe("with live: whether the provider's model list has it"),
});

export const listModelsOutput = z.object({
  defaultProvider: z.enum(['glm', 'kimi']),
  models: z.array(modelRow),
  live: z
    .array(
      z.object({
        provider: z.enum(['glm', 'kimi']),
        listed: z
          .array(z.string())
          .nullable()
          .describe('ids the provider lists; null when it has no listing'),
        note: z.string(),
      }),
    )
    .optional()
    .describe("with live: what each provider's GET /models answered"),
});

export type ListModelsOutput = z.infer<typeof listModelsOutput>;

export const VERSION_DESCRIPTION =
  'Report the exai server name and version, the MCP protocol version in use, the Node.js version ' +
  'and which providers are configured.';

export const versionOutput = z.object({
  name: z.string(),
  version: z.string(),
  protocolVersion: z.string(),
  node: z.string(),
  providers: z.array(
    z.object({
      provider: z.enum(['glm', 'kimi']),
      configured: z.boolean().describe('the API key is set'),
      defaultModel: z.string(),
      streaming: z.boolean(),
    }),
  ),
});

export type VersionOutput = z.infer<typeof versionOutput>;
