// Folds chunks into one answer: content, reasoning, tool calls (by index), usage and finish reason.
import type { ChatCompletionChunk, ToolCall, Usage } from '../types.js';

interface PendingToolCall {
  id: string;
  name: string;
  args: string[];
}

/**
 * Text built from many small pieces. Every 512 pieces become one block, so memory holds a few large
 * strings instead of hundreds of thousands of tiny ones, and each character is copied a bounded
 * number of times (joining everything so far at every step would be quadratic).
 */
class TextBuilder {
  /** Made at the first piece: a builder that never gets one (most answers' reasoning) holds no arrays. */
  private blocks: string[] | undefined;
  private parts: string[] | undefined;
  length = 0;

  push(piece: string): void {
    this.length += piece.length;
    if (!this.parts) this.parts = [piece];
    else if (this.parts.push(piece) >= BLOCK_PIECES) this.flush();
  }

  /** The pieces so far become one more block. */
  private flush(): void {
    if (!this.parts) return;
    const block = this.parts.join('');
    this.parts = undefined;
    if (this.blocks) this.blocks.push(block);
    else this.blocks = [block];
  }

  toString(): string {
    this.flush();
    let { blocks } = this;
    if (!blocks) return '';
    // One join makes one flat string. (Joined blocks + joined parts would be a rope, which V8
    // copies whole once more the first time it is read as a flat string: a third copy at the end.)
    if (blocks.length > 1) this.blocks = blocks = [blocks.join('')];
    return blocks[0] ?? '';
  }
}

const BLOCK_PIECES = 512;

/** Whether an answer is folded from this choice: exai asks for one; any other index is a provider oddity. */
export const isAnswerChoice = (choice: { index?: number | undefined }) =>
  choice.index === 0 || choice.index === undefined;

export class Aggregator {
  private readonly contentText = new TextBuilder();
  /** Made at the first reasoning delta: most answers have none. */
  private reasoningText: TextBuilder | undefined;
  /** Created at the first tool-call delta: most answers have none (one Map less per stream). */
  private tools: Map<number, PendingToolCall> | undefined;
  usage: Usage | null = null;
  finishReason: string | null = null;
  /** The provider's own finish reason, where the adapter mapped it onto OpenAI's set. */
  providerFinishReason: string | undefined;
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
      if (!isAnswerChoice(choice)) continue;
      const d = choice.delta;
      if (d.content) {
        this.contentText.push(d.content);
        token = true;
      }
      if (d.reasoning_content) {
        this.reasoningText ??= new TextBuilder();
        this.reasoningText.push(d.reasoning_content);
        token = true;
      }
      if (d.tool_calls) {
        for (const t of d.tool_calls)
          this.addToolDelta(t.index ?? 0, t.id, t.function?.name, t.function?.arguments);
        token = true;
      }
      // GLM may repeat finish_reason on a later chunk (tool call, then usage): the last one wins.
      if (choice.finish_reason) {
        this.finishReason = choice.finish_reason;
        this.providerFinishReason = choice.provider_finish_reason;
      }
    }
    return token;
  }

  private addToolDelta(index: number, id?: string, name?: string, args?: string): void {
    this.tools ??= new Map();
    let call = this.tools.get(index);
    if (!call) {
      call = { id: '', name: '', args: [] };
      this.tools.set(index, call);
    }
    // A provider that changes the id mid-call: the first one is what the caller may already hold.
    if (id && !call.id) call.id = id;
    // Most providers send the name once; one that repeats it whole must not double it.
    if (name) call.name = call.name === '' || call.name === name ? name : call.name + name;
    if (args) call.args.push(args);
  }

  /**
   * A new attempt reasons again from the start: the abandoned attempt's reasoning is replaced,
   * not repeated. Content stays: it was shown and is continued.
   */
  restartReasoning(): void {
    this.reasoningText = undefined;
  }

  /**
   * Forgets the tool calls and finish reason of a broken stream (tool calls are whole or absent)
   * and returns the calls that were dropped.
   */
  dropToolCalls(): ToolCall[] {
    const calls = this.toolCalls;
    this.tools = undefined;
    this.finishReason = null;
    return calls;
  }

  get content(): string {
    return this.contentText.toString();
  }

  get reasoning(): string {
    return this.reasoningText?.toString() ?? '';
  }

  /** Characters of content so far (cheap: no joining). */
  get contentLength(): number {
    return this.contentText.length;
  }

  get reasoningLength(): number {
    return this.reasoningText?.length ?? 0;
  }

  get hasToolCalls(): boolean {
    return this.tools !== undefined && this.tools.size > 0;
  }

  get toolCalls(): ToolCall[] {
    if (!this.tools) return [];
    return [...this.tools.entries()]
      .sort(([a], [b]) => a - b)
      .map(([, c]) => ({
        id: c.id,
        type: 'function' as const,
        function: { name: c.name, arguments: c.args.join('') },
      }));
  }
}
