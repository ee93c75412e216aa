// The `chat` tool: one request through the library as an answer job, tokens relayed as progress
// notifications while the call waits; the answer (or, past the call budget, the text so far and a
// resume id) as the result; the turn saved for a continuation.
import type { CallToolResult, ServerContext } from '@modelcontextprotocol/server';
import { createClient } from '../client.js';
import { chooseProvider, KEY_VAR } from '../config/index.js';
import { ConfigError } from '../errors.js';
import type { ChatCompletionCreateParams, ChatResult, ProviderName } from '../types.js';
import { callProgress } from './call-progress.js';
import {
  type Conversation,
  loadConversation,
  prepareMessages,
  saveConversation,
  storableTurn,
} from './conversations.js';
import { describeError, toolError } from './errors.js';
import { type AnswerPart, answerResult, type HistoryInfo } from './result.js';
import { AnswerJob, type JobEnd } from './resume/job.js';
import { newConversationId } from './resume/keys.js';
import type { Runtime } from './runtime.js';
import type { ChatInput } from './schemas.js';
import { type Services, services } from './services.js';

export async function chatTool(args: ChatInput, ctx: ServerContext, rt: Runtime): Promise<CallToolResult> {
  const ended = rt.metrics.callStarted();
  let model = args.model;
  let provider: ProviderName | undefined;
  let job: AnswerJob | undefined;
  try {
    const svc = await services(rt);
    let earlier: Conversation | undefined;
    if (args.continuation_id !== undefined) {
      earlier = await loadConversation(svc.store, args.continuation_id, rt.config.storeTtlS).catch((e) => {
        throw storeTrouble(e, svc, 'continue the conversation');
      });
    }
    // A continuation keeps its model unless the call names another.
    if (earlier && args.model === undefined && args.provider === undefined) model = earlier.model;
    provider = chooseProvider(rt.config, args.provider, model);
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
    const usedModel = model ?? client.config.defaultModel;
    model = usedModel;
    const system = args.system_prompt ?? earlier?.system;
    const prepared = prepareMessages(earlier?.turns ?? [], {
      system,
      prompt: args.prompt,
      model: usedModel,
      maxTokens: args.max_tokens,
    });
    const continuationId = args.continuation_id ?? newConversationId();
    const usedProvider = provider;
    const kept = earlier ? earlier.turns.slice(prepared.history.droppedTurns) : [];
    job = new AnswerJob({
      rt,
      svc,
      onFinished: (r) =>
        saveConversation(
          svc.store,
          continuationId,
          {
            v: 1,
            provider: usedProvider,
            model: usedModel,
            ...(system ? { system } : {}),
            turns: [
              ...kept,
              storableTurn({
                user: args.prompt,
                assistant: r.content,
                ...(r.reasoning ? { reasoning: r.reasoning } : {}),
              }),
            ],
          },
          svc.ttlMs,
        ).catch((e) => {
          throw storeTrouble(e, svc, 'save the conversation');
        }),
    });
    const request: ChatCompletionCreateParams & { stream: true } = {
      model: usedModel,
      messages: prepared.messages,
      stream: true,
      ...(args.temperature !== undefined ? { temperature: args.temperature } : {}),
      ...(args.max_tokens !== undefined ? { max_tokens: args.max_tokens } : {}),
    };
    const running = job;
    void running.done
      .then((end) => record(rt, usedProvider, usedModel, end, running.signal.aborted))
      .finally(ended);
    // Not awaited: without streaming, create() resolves only with the whole answer, and the call
    // budget counts from now.
    client.chat.completions.create(request, { signal: running.signal }).then(
      (stream) => running.run(stream),
      (error: unknown) => running.fail(error),
    );
    return await waitForAnswer(args, ctx, rt, running, {
      usedModel,
      usedProvider,
      continuationId,
      history: prepared.history,
      earlier: earlier !== undefined,
    });
  } catch (error) {
    if (!job) {
      rt.logger.warn('chat tool failed', { model, error: describeError(error) });
      rt.metrics.callEnded(provider, model, 'error');
      ended();
    }
    return toolError(error, model);
  }
}

interface Facts {
  usedModel: string;
  usedProvider: ProviderName;
  continuationId: string;
  history: HistoryInfo;
  earlier: boolean;
}

/** Waits for the answer up to the call budget; relays it as progress meanwhile. */
async function waitForAnswer(
  args: ChatInput,
  ctx: ServerContext,
  rt: Runtime,
  job: AnswerJob,
  f: Facts,
): Promise<CallToolResult> {
  const callSignal = ctx.mcpReq.signal;
  const progress = callProgress(ctx, rt, job.signal, f.usedModel);
  const showReasoning = args.show_reasoning === true;
  if (progress) {
    job.listener = (channel, text) => {
      if (channel === 'content') progress.relay.push('content', text);
      else if (showReasoning) progress.relay.push('reasoning', text);
      else progress.relay.noteThinking();
    };
  }
  // Before the call returns, cancelling it cancels the answer.
  const onCancel = () => job.abort('request cancelled by the MCP client');
  if (callSignal.aborted) onCancel();
  else callSignal.addEventListener('abort', onCancel, { once: true });
  const budget = args.wait_ms ?? rt.config.callBudgetMs;
  let timer: NodeJS.Timeout | undefined;
  try {
    const end = await Promise.race([
      job.done,
      new Promise<undefined>((resolve) => {
        if (budget > 0) timer = setTimeout(() => resolve(undefined), budget);
      }),
    ]);
    clearTimeout(timer);
    if (end || job.streamEnded) {
      const final = end ?? (await job.done);
      if ((await progress?.settle(final.result?.content)) === false) return gone(f);
      return finalResult(final, showReasoning, f);
    }
    const part = job.detach();
    callSignal.removeEventListener('abort', onCancel);
    // A client that went away while its part waited never learns the resume id: nobody could
    // resume the answer, so it stops now instead of running upstream until it is abandoned.
    if ((await progress?.settle(part.content)) === false || callSignal.aborted) {
      job.abandon('its resume id never reached the client');
      return gone(f);
    }
    try {
      await job.persist(
        {
          v: 1,
          provider: f.usedProvider,
          model: f.usedModel,
          showReasoning,
          continuationId: f.continuationId,
          cursor: 0,
          reasoningCursor: 0,
          seq: progress?.relay.sent ?? 0,
          progress: progress?.relay.progress ?? 0,
          part: 1,
        },
        budget,
      );
    } catch (error) {
      const svc = await services(rt);
      job.abort('the rest of the answer cannot be kept');
      const why = storeTrouble(error, svc, 'keep the rest of the answer');
      return answerResult({
        content: part.content,
        ...(showReasoning && part.reasoning ? { reasoning: part.reasoning } : {}),
        finish_reason: null,
        error: { code: 'store', message: why.message },
        part: 1,
      });
    }
    rt.logger.info('chat continues after the call budget', { resumeId: job.id, budgetMs: budget });
    return answerResult({
      content: part.content,
      ...(showReasoning && part.reasoning ? { reasoning: part.reasoning } : {}),
      finish_reason: null,
      resume_id: job.id,
      part: 1,
      ...(f.earlier ? { history: f.history } : {}),
    });
  } finally {
    clearTimeout(timer);
    callSignal.removeEventListener('abort', onCancel);
    progress?.relay.stop();
  }
}

function finalResult(end: JobEnd, showReasoning: boolean, f: Facts): CallToolResult {
  if (!end.result) return toolError(end.failure, f.usedModel);
  const r = end.result;
  const part: AnswerPart = {
    content: r.content,
    ...(showReasoning && r.reasoning ? { reasoning: r.reasoning } : {}),
    finish_reason: r.finishReason,
    ...(r.usage ? { usage: r.usage } : {}),
    metadata: { ...r.metadata },
    ...(r.error ? { error: { code: r.error.code, message: describeError(new Error(r.error.message)) } } : {}),
    ...(end.notSaved ? {} : { continuation_id: f.continuationId }),
    part: 1,
    ...(f.earlier ? { history: f.history } : {}),
  };
  return answerResult(part, end.notSaved);
}

/** For a call whose client went away before its result: nobody reads it, so nothing large is built. */
const gone = (f: Facts) =>
  toolError(new Error('the client closed the connection before the answer could be sent'), f.usedModel);

/** A store failure as one clear error naming the store and what could not be done. */
function storeTrouble(error: unknown, svc: Services, doing: string): Error {
  if (error instanceof Error && error.name !== 'StoreError') return error;
  return new Error(`cannot ${doing}: the ${svc.store.name} store is unavailable (${describeError(error)})`);
}

function record(rt: Runtime, provider: ProviderName, model: string, end: JobEnd, aborted: boolean): void {
  if (!end.result) {
    if (!aborted) rt.logger.warn('chat tool failed', { model, error: describeError(end.failure) });
    rt.metrics.callEnded(provider, model, aborted ? 'cancelled' : 'error');
    return;
  }
  const r: ChatResult = end.result;
  const m = r.metadata;
  rt.logger.info(aborted ? 'chat cancelled' : 'chat done', {
    provider: m.provider,
    model: m.model,
    chunks: m.chunks,
    ttftMs: m.ttftMs,
    durationMs: m.durationMs,
    streamed: m.streamed,
    ...(m.fallback ? { fallback: m.fallback.reason } : {}),
    ...(m.recovered ? { recovered: true } : {}),
    ...(m.interrupted && !aborted ? { interrupted: true, error: r.error?.message } : {}),
  });
  rt.metrics.callEnded(provider, m.model, aborted ? 'cancelled' : m.interrupted ? 'interrupted' : 'ok', r);
}
