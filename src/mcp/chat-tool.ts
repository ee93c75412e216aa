// The `chat` tool: one request through the library, tokens relayed as progress notifications,
// the complete answer (or the partial one, flagged) as the result.
import type { CallToolResult, ServerContext } from '@modelcontextprotocol/server';
import { createClient } from '../client.js';
import { chooseProvider, KEY_VAR } from '../config/index.js';
import { ConfigError } from '../errors.js';
import { promptRequest } from '../prompt.js';
import type { ChatStream } from '../streaming/stream.js';
import type { ChatResult, ProviderName } from '../types.js';
import { whenWritable, writabilityOf } from './backpressure.js';
import { describeError, toolError } from './errors.js';
import { MAX_PENDING_PROGRESS_CHARS } from './limits.js';
import { ProgressRelay } from './progress.js';
import type { Runtime } from './runtime.js';
import type { ChatInput, ChatOutput } from './schemas.js';

export async function chatTool(args: ChatInput, ctx: ServerContext, rt: Runtime): Promise<CallToolResult> {
  const call = rt.track(ctx.mcpReq.signal);
  // The connection this call answers on (named by the HTTP transport): progress waits while it is full.
  const writability = writabilityOf(ctx.http?.req);
  const ended = rt.metrics.callStarted();
  let model = args.model;
  let provider: ProviderName | undefined;
  let relay: ProgressRelay | undefined;
  const sending = new Set<Promise<void>>();
  try {
    provider = chooseProvider(rt.config, args.provider, args.model);
    if (!rt.config[provider].apiKey) {
      throw new ConfigError(
        `${KEY_VAR[provider]} is not set, so ${provider} cannot be used: add it to the "env" of this ` +
          "server's entry in the MCP host's configuration (or to .env in the server's working directory)",
      );
    }
    const client = createClient(provider, {
      config: rt.config,
      logger: rt.logger,
      ...(rt.transport ? { transport: rt.transport } : {}),
      ...(args.stream === false ? { streamEnabled: false } : {}),
    });
    model ??= client.config.defaultModel;

    const token = ctx.mcpReq._meta?.progressToken;
    if (token !== undefined) {
      relay = new ProgressRelay({
        intervalMs: rt.config.progressIntervalMs,
        heartbeatMs: rt.heartbeatMs,
        model,
        ...(writability
          ? { canSend: () => writability.canWrite(), maxPendingChars: MAX_PENDING_PROGRESS_CHARS }
          : {}),
        send: (u) => {
          if (call.signal.aborted) return;
          const meta = { 'exai/delta': u.delta, 'exai/channel': u.channel, 'exai/seq': u.seq };
          const params = {
            progressToken: token,
            progress: u.progress,
            message: u.message,
            _meta: u.heartbeat ? { ...meta, 'exai/heartbeat': true } : meta,
          };
          rt.metrics.progressSent();
          const sent = ctx.mcpReq.notify({ method: 'notifications/progress', params }).catch((error) => {
            rt.logger.debug('progress notification not sent', { error: describeError(error) });
          });
          sending.add(sent);
          void sent.finally(() => sending.delete(sent));
        },
      });
    }

    const stream = await client.chat.completions.create(
      promptRequest({
        prompt: args.prompt,
        system: args.system_prompt,
        model,
        temperature: args.temperature,
        maxTokens: args.max_tokens,
      }),
      { signal: call.signal },
    );
    if (relay) await relayChunks(stream, relay, args.show_reasoning === true);
    const result = await stream.finalResult();
    // A client that is not reading gets its last delta and the result when it reads again (or is
    // cut by the transport, which cancels the call): nothing large is queued for it meanwhile.
    if (relay && writability) await whenWritable(writability, call.signal, rt.config.progressIntervalMs);
    const sentBefore = relay?.sent ?? 0;
    relay?.close(result.content);
    await Promise.all(sending);
    // SDK clients dispatch a notification a microtask late but a response at once, and forget the
    // progress token with the response: a last notification read together with the result is lost.
    // One timer turn between them lets the client read them apart.
    if (relay && relay.sent > sentBefore) await new Promise((resolve) => setTimeout(resolve, 1));
    if (relay && relay.contentChars !== result.content.length && !call.signal.aborted) {
      rt.logger.warn('progress deltas do not add up to the answer', {
        relayed: relay.contentChars,
        answer: result.content.length,
      });
    }
    logDone(rt, result, call.signal.aborted);
    const outcome = call.signal.aborted ? 'cancelled' : result.metadata.interrupted ? 'interrupted' : 'ok';
    rt.metrics.callEnded(provider, result.metadata.model, outcome, result);
    return toolResult(result, args.show_reasoning === true);
  } catch (error) {
    relay?.stop();
    if (!call.signal.aborted) rt.logger.warn('chat tool failed', { model, error: describeError(error) });
    rt.metrics.callEnded(provider, model, call.signal.aborted ? 'cancelled' : 'error');
    return toolError(error, model);
  } finally {
    relay?.stop();
    ended();
    call.release();
  }
}

/** Feeds every delta to the relay; a broken stream ends the loop (the result says what happened). */
async function relayChunks(stream: ChatStream, relay: ProgressRelay, showReasoning: boolean) {
  try {
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta;
      if (!delta) continue;
      if (delta.reasoning_content) {
        if (showReasoning) relay.push('reasoning', delta.reasoning_content);
        else relay.noteThinking();
      }
      if (delta.content) relay.push('content', delta.content);
    }
  } catch {
    // The same failure is in finalResult(): rejected when nothing arrived, else a partial result.
  }
}

function logDone(rt: Runtime, r: ChatResult, cancelled: boolean): void {
  const m = r.metadata;
  rt.logger.info(cancelled ? 'chat cancelled' : 'chat done', {
    provider: m.provider,
    model: m.model,
    chunks: m.chunks,
    ttftMs: m.ttftMs,
    durationMs: m.durationMs,
    streamed: m.streamed,
    ...(m.fallback ? { fallback: m.fallback.reason } : {}),
    ...(m.recovered ? { recovered: true } : {}),
    ...(m.interrupted && !cancelled ? { interrupted: true, error: r.error?.message } : {}),
  });
}

/**
 * The answer as text plus structuredContent. A partial answer is not an error result: its text is
 * the first content item, a second item says why it stopped, and `metadata.interrupted` is true.
 */
export function toolResult(r: ChatResult, showReasoning: boolean): CallToolResult {
  const structured: ChatOutput = {
    content: r.content,
    ...(showReasoning && r.reasoning ? { reasoning: r.reasoning } : {}),
    finish_reason: r.finishReason,
    ...(r.usage ? { usage: r.usage } : {}),
    metadata: { ...r.metadata },
    ...(r.error ? { error: { code: r.error.code, message: describeError(new Error(r.error.message)) } } : {}),
  };
  const content: CallToolResult['content'] = [{ type: 'text', text: r.content }];
  if (r.metadata.interrupted && structured.error) {
    content.push({
      type: 'text',
      text: `[exai] The answer above is incomplete (${structured.error.code}): ${structured.error.message}`,
    });
  }
  return { content, structuredContent: structured };
}
