// One prompt (plus optional system prompt and sampling settings) as a streaming request: the shape
// both the CLI and the MCP `chat` tool send.
import type { ChatCompletionCreateParams, ChatMessage } from './types.js';

export interface PromptRequest {
  prompt: string;
  system?: string | undefined;
  model: string;
  temperature?: number | undefined;
  maxTokens?: number | undefined;
}

export function promptRequest(p: PromptRequest): ChatCompletionCreateParams & { stream: true } {
  const messages: ChatMessage[] = [];
  if (p.system) messages.push({ role: 'system', content: p.system });
  messages.push({ role: 'user', content: p.prompt });
  return {
    model: p.model,
    messages,
    stream: true,
    ...(p.temperature !== undefined ? { temperature: p.temperature } : {}),
    ...(p.maxTokens !== undefined ? { max_tokens: p.maxTokens } : {}),
  };
}
