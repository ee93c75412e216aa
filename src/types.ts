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

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string | null;
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

export interface ChatCompletionCreateParams {
  model?: string;
  messages: ChatMessage[];
  stream?: boolean;
  temperature?: number;
  top_p?: number;
  max_tokens?: number;
  stop?: string | string[];
  tools?: ToolDefinition[];
  tool_choice?: 'auto' | 'none' | Record<string, unknown>;
  /** GLM 4.5+: reasoning on (default) or off. */
  thinking?: { type: 'enabled' | 'disabled' };
  response_format?: { type: 'text' | 'json_object' };
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

export interface ChunkChoice {
  index: number;
  delta: ChunkDelta;
  finish_reason: string | null;
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
