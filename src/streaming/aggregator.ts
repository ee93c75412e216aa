// Folds chunks into one answer: content, reasoning, tool calls (by index), usage and finish reason.
import type { ChatCompletionChunk, ToolCall, Usage } from '../types.js';

interface PendingToolCall {
  id: string;
  name: string;
  args: string[];
}

/** Replaces the pieces by their concatenation and returns it. */
function joinInPlace(parts: string[]): string {
  if (parts.length > 1) parts.splice(0, parts.length, parts.join(''));
  return parts[0] ?? '';
}

/** Pieces kept before they are joined: thousands of tiny strings cost more memory than one. */
const JOIN_EVERY = 512;

export class Aggregator {
  private readonly contentParts: string[] = [];
  private readonly reasoningParts: string[] = [];
  private readonly tools = new Map<number, PendingToolCall>();
  /** Characters of content so far (cheap to keep; needed for continuation and limits). */
  contentLength = 0;
  reasoningLength = 0;
  usage: Usage | null = null;
  finishReason: string | null = null;
  model = '';
  id = '';
  created = 0;

  /** Adds one chunk; returns true when it carried a token (content, reasoning or tool-call text). */
  add(chunk: ChatCompletionChunk): boolean {
    if (chunk.model) this.model = chunk.model;
    if (chunk.id && !this.id) this.id = chunk.id;
    if (chunk.created && !this.created) this.created = chunk.created;
    if (chunk.usage) this.usage = chunk.usage;
    let token = false;
    for (const choice of chunk.choices) {
      // exai asks for one choice; any other index is a provider oddity we do not mix in.
      if (choice.index !== 0 && choice.index !== undefined) continue;
      const d = choice.delta;
      if (d.content) {
        this.contentLength += d.content.length;
        if (this.contentParts.push(d.content) >= JOIN_EVERY) joinInPlace(this.contentParts);
        token = true;
      }
      if (d.reasoning_content) {
        this.reasoningLength += d.reasoning_content.length;
        if (this.reasoningParts.push(d.reasoning_content) >= JOIN_EVERY) joinInPlace(this.reasoningParts);
        token = true;
      }
      if (d.tool_calls) {
        for (const t of d.tool_calls)
          this.addToolDelta(t.index ?? 0, t.id, t.function?.name, t.function?.arguments);
        token = true;
      }
      // GLM may repeat finish_reason on a later chunk (tool call, then usage): the last one wins.
      if (choice.finish_reason) this.finishReason = choice.finish_reason;
    }
    return token;
  }

  private addToolDelta(index: number, id?: string, name?: string, args?: string): void {
    let call = this.tools.get(index);
    if (!call) {
      call = { id: '', name: '', args: [] };
      this.tools.set(index, call);
    }
    if (id) call.id = id;
    // Most providers send the name once; one that repeats it whole must not double it.
    if (name) call.name = call.name === '' || call.name === name ? name : call.name + name;
    if (args) call.args.push(args);
  }

  get content(): string {
    return joinInPlace(this.contentParts);
  }

  get reasoning(): string {
    return joinInPlace(this.reasoningParts);
  }

  get hasToolCalls(): boolean {
    return this.tools.size > 0;
  }

  get toolCalls(): ToolCall[] {
    return [...this.tools.entries()]
      .sort(([a], [b]) => a - b)
      .map(([, c]) => ({
        id: c.id,
        type: 'function' as const,
        function: { name: c.name, arguments: c.args.join('') },
      }));
  }
}
