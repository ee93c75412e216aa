// Public wire and result types: OpenAI Chat Completions shapes plus the fields GLM and Kimi add.

export type ProviderName = 'glm' | 'kimi';

export interface ToolCallFunction {
  name: string;
  arguments: string;
}

export interface ToolCall {
  id: string;
  type: 'function';
  function: ToolCallFunction;
}

/** One part of a multimodal message (OpenAI content parts; Kimi K2.6 also takes video). */
export type ContentPart =
  | { type: 'text'; text: string }
  | { type: 'image_url'; image_url: { url: string; detail?: 'auto' | 'low' | 'high' } }
  | { type: 'video_url'; video_url: { url: string } }
  | { type: 'file'; file: { file_id?: string; file_data?: string; filename?: string } }
  | { type: string; [field: string]: unknown };

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  /** A string, or content parts for vision models. */
  content: string | ContentPart[] | null;
  name?: string;
  tool_calls?: ToolCall[];
  tool_call_id?: string;
  reasoning_content?: string;
  /** Kimi partial mode: the model continues this assistant message. */
  partial?: boolean;
}

export interface ToolDefinition {
  type: 'function';
  function: { name: string; description?: string; parameters?: Record<string, unknown> };
}

/** GLM `thinking`: on by default for GLM-4.5 and later; `clear_thinking: false` keeps past turns' reasoning. */
export interface GlmThinking {
  type: 'enabled' | 'disabled';
  clear_thinking?: boolean;
}

/** Kimi `thinking` (K2.5/K2.6); the K2.7-code models and K3 always reason and reject `disabled`. */
export interface KimiThinking {
  type: 'enabled' | 'disabled';
}

/**
 * The Chat Completions request. Every field is sent to the provider as given (unknown ones too, as
 * openai-node does); the ones exai knows are typed. `n` above 1 is refused: exai aggregates one choice.
 */
export interface ChatCompletionCreateParams {
  model?: string;
  messages: ChatMessage[];
  stream?: boolean;
  stream_options?: { include_usage?: boolean; [field: string]: unknown };
  temperature?: number;
  top_p?: number;
  max_tokens?: number;
  /** OpenAI's newer name for `max_tokens`; sent to GLM as `max_tokens`. */
  max_completion_tokens?: number;
  n?: number;
  stop?: string | string[];
  seed?: number;
  user?: string;
  frequency_penalty?: number;
  presence_penalty?: number;
  logprobs?: boolean;
  top_logprobs?: number;
  tools?: ToolDefinition[];
  tool_choice?: 'auto' | 'none' | 'required' | Record<string, unknown>;
  parallel_tool_calls?: boolean;
  response_format?: { type: 'text' | 'json_object' | 'json_schema'; [field: string]: unknown };
  /** GLM and Kimi reasoning switch (see GlmThinking, KimiThinking). */
  thinking?: GlmThinking | KimiThinking;
  /** GLM-5.2+ and Kimi K3 (`low` | `high` | `max` on K3). */
  reasoning_effort?: string;
  /** GLM: stream tool-call arguments as they are generated (exai sets it when streaming with tools). */
  tool_stream?: boolean;
  /** GLM: sampling on/off. */
  do_sample?: boolean;
  /** GLM: the caller's own request id, echoed in the response. */
  request_id?: string;
  /** GLM: an end-user id for abuse monitoring. */
  user_id?: string;
  /** Any other provider field: sent unchanged. */
  [field: string]: unknown;
}

export interface RequestOptions {
  /** Cancels the upstream HTTP request at once. */
  signal?: AbortSignal;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  [extra: string]: unknown;
}

export interface ToolCallDelta {
  index: number;
  id?: string;
  type?: 'function';
  function?: { name?: string; arguments?: string };
}

export interface ChunkDelta {
  role?: 'assistant';
  content?: string | null;
  reasoning_content?: string | null;
  tool_calls?: ToolCallDelta[];
}

/** OpenAI's finish reasons; a provider's other values are mapped onto these. */
export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter';

export interface ChunkChoice {
  index: number;
  delta: ChunkDelta;
  finish_reason: string | null;
  /** The provider's own finish reason, where it differs from `finish_reason` (GLM `sensitive`). */
  provider_finish_reason?: string;
}

/** One `chat.completion.chunk`, normalised: usage is always top-level (Kimi sends it inside the choice). */
export interface ChatCompletionChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: ChunkChoice[];
  usage?: Usage | null;
}

export interface FallbackInfo {
  reason: string;
  afterChunks: number;
}

export interface ChatMetadata {
  provider: ProviderName;
  model: string;
  streamed: boolean;
  chunks: number;
  ttftMs: number | null;
  durationMs: number;
  retries: number;
  /** HTTP requests the call made in all (DESIGN §3, v2). */
  requests: number;
  fallback: FallbackInfo | null;
  recovered: boolean;
  interrupted: boolean;
  /** The provider's own finish reason, when it differs from `finishReason` (GLM `sensitive`). */
  providerFinishReason?: string;
}

export interface ChatResultError {
  code: string;
  message: string;
}

export interface ChatResult {
  content: string;
  reasoning: string;
  toolCalls: ToolCall[];
  usage: Usage | null;
  finishReason: string | null;
  metadata: ChatMetadata;
  /** Present when the answer is partial or the request failed after tokens arrived. */
  error?: ChatResultError;
}

export interface ChatCompletionMessage {
  role: 'assistant';
  content: string | null;
  reasoning_content?: string;
  tool_calls?: ToolCall[];
}

/** What `create({ stream: false })` resolves to: an OpenAI `chat.completion` that is also a ChatResult. */
export interface ChatCompletion extends ChatResult {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: Array<{ index: number; message: ChatCompletionMessage; finish_reason: string | null }>;
}
