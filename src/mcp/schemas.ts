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
  'Ask a GLM (Z.ai) or Kimi (Moonshot) model; the result text is its answer. ' +
  'Give a model id to choose the model (its provider is inferred from the name), or only a ' +
  'provider to use its default model, or neither for the default provider; `listmodels` shows ' +
  'what is configured. A long answer comes in parts: when the result ends with "[answer ' +
  'continues: call chat_resume with resume_id ...]", call `chat_resume` with that id for the next ' +
  'part, until a part has no such line; the parts joined are the answer. To ask a follow-up in ' +
  'the same conversation, pass the continuation_id the result names. If the provider fails ' +
  'mid-answer, the result is the partial answer and a second text item says why.';

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
  continuation_id: z
    .string()
    .min(1, 'continuation_id must not be empty; omit it to start a new conversation')
    .optional()
    .describe(
      'Continue an earlier conversation: the continuation_id an earlier chat result named. The model ' +
        'sees the earlier prompts and answers (the oldest are left out if they do not fit its context).',
    ),
  wait_ms: z
    .number()
    .int('wait_ms must be a whole number of milliseconds')
    .min(0, 'wait_ms must be 0 or more')
    .optional()
    .describe(
      'How long this call may wait for the answer before returning the text so far with a resume id ' +
        "(default: the server's EXAI_CALL_BUDGET_MS, 50000). 0: wait for the whole answer.",
    ),
});

export type ChatInput = z.infer<typeof chatInput>;

export const RESUME_DESCRIPTION =
  'Get the next part of a chat answer that continues: pass the resume_id from the "[answer ' +
  'continues: ...]" line. The result is the next part of the answer (append it to the earlier ' +
  'parts); if it ends with another such line, call chat_resume again. cancel: true stops the ' +
  'answer and returns what arrived.';

export const resumeInput = z.strictObject({
  resume_id: z
    .string({ error: 'resume_id is required: the id from the "[answer continues: ...]" line' })
    .min(1, 'resume_id must not be empty')
    .describe('The resume_id named in the previous part of the answer.'),
  cancel: z
    .boolean()
    .optional()
    .describe('true: stop generating this answer; the result is the text that arrived, marked incomplete.'),
  wait_ms: z
    .number()
    .int('wait_ms must be a whole number of milliseconds')
    .min(0, 'wait_ms must be 0 or more')
    .optional()
    .describe(
      "How long to wait for the rest before returning the next part (default: the server's call budget).",
    ),
});

export type ResumeInput = z.infer<typeof resumeInput>;

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
