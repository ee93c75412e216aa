// Emulator switches for people testing their own clients (`exai emulator --reasoning --tools`) and
// for sessions (`echoMessages`): small changes around planAnswer, so answer.ts stays as recorded.

import { isObject } from '../json.js';
import type { ProviderName } from '../types.js';
import { type AnswerPlan, type AnswerRequest, planAnswer } from './answer.js';
import { fnv1a, prng, reasoningText, tokenize } from './text.js';

export interface Switches {
  /** Every model reasons first (reasoning_content), unless the request disables thinking. */
  reasoning: boolean;
  /** Answer a user turn with a tool call even when the request offers no tools (a built-in one). */
  tools: boolean;
  /** Start each answer with `[N messages] `: the number of messages the request carried. */
  echoMessages: boolean;
}

/** The tool offered when `tools` is on and the request has none. */
export const BUILT_IN_TOOL = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather for a city',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
      required: ['city'],
    },
  },
} as const;

const REASONING_WORDS = 25;

const echo = (n: number) => `[${n} ${n === 1 ? 'message' : 'messages'}] `;

function withTokens(plan: AnswerPlan, content: string): AnswerPlan {
  return { ...plan, content, contentTokens: tokenize(content) };
}

/** planAnswer with the switches applied. */
export function planWithSwitches(
  provider: ProviderName,
  body: AnswerRequest,
  words: number,
  s: Switches,
): AnswerPlan {
  const offered = Array.isArray(body.tools) && body.tools.length > 0;
  const asked = s.tools && !offered ? ({ ...body, tools: [BUILT_IN_TOOL] } as AnswerRequest) : body;
  let plan = planAnswer(provider, asked, { words });
  const messages: unknown[] = Array.isArray(body.messages) ? body.messages : [];
  const thinking = body.thinking as unknown;
  const disabled = isObject(thinking) && thinking.type === 'disabled';
  if (s.reasoning && !plan.continuation && !plan.reasoning && !disabled) {
    const reasoning = reasoningText(prng(fnv1a(`reasoning\n${JSON.stringify(messages)}`)), REASONING_WORDS);
    plan = { ...plan, reasoning, reasoningTokens: tokenize(reasoning) };
  }
  if (!s.echoMessages || plan.toolCalls.length > 0) return plan;
  if (!plan.continuation) return withTokens(plan, echo(messages.length) + plan.content);
  // A continuation must go on from the prefill, echo included: the full answer is that of the
  // conversation without the prefill, behind its echo.
  const prefill = messages[messages.length - 1];
  const prefix = isObject(prefill) && typeof prefill.content === 'string' ? prefill.content : '';
  const earlier = messages.slice(0, -1);
  const whole = planAnswer(provider, { ...asked, messages: earlier } as AnswerRequest, { words });
  const full = echo(earlier.length) + whole.content;
  return full.startsWith(prefix) ? withTokens(plan, full.slice(prefix.length)) : plan;
}
