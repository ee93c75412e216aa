// The library consumers of the benchmarks: openai-node 6, the Vercel AI SDK and exai itself. Each
// is imported only by the kind that uses it, so a fresh child's RSS belongs to that kind alone.
import { performance } from 'node:perf_hooks';
import { distModule, MODEL, messagesFor, wallNow } from './common.js';

async function openaiConsumer(base) {
  const { default: OpenAI } = await import('openai');
  const client = new OpenAI({ apiKey: 'x', baseURL: base, maxRetries: 0 });
  return {
    close: () => {},
    async stream({ prompt = 'bench', signal, delays } = {}) {
      const t0 = performance.now();
      const stream = await client.chat.completions.create(
        { model: MODEL, messages: messagesFor(prompt), stream: true },
        { signal },
      );
      let firstMs = -1;
      let chunks = 0;
      let chars = 0;
      for await (const chunk of stream) {
        chunks++;
        if (delays && chunk.x_emulator_sent_at) delays.push(wallNow() - chunk.x_emulator_sent_at);
        const content = chunk.choices[0]?.delta?.content;
        if (content) {
          if (firstMs < 0) firstMs = performance.now() - t0;
          chars += content.length;
        }
      }
      return { chunks, chars, firstMs };
    },
  };
}

/**
 * The AI SDK as its documentation shows it: `streamText(...).textStream`. It hands out text deltas,
 * not wire chunks, so `chunks` counts deltas and the callers bill CPU per wire chunk of the stream.
 */
async function aisdkConsumer(base) {
  const { createOpenAICompatible } = await import('@ai-sdk/openai-compatible');
  const { streamText } = await import('ai');
  const provider = createOpenAICompatible({ name: 'glm', baseURL: base, apiKey: 'x', includeUsage: true });
  const model = provider.chatModel(MODEL);
  return {
    close: () => {},
    async stream({ prompt = 'bench', signal } = {}) {
      const t0 = performance.now();
      let failure;
      const result = streamText({
        model,
        messages: messagesFor(prompt),
        maxRetries: 0,
        abortSignal: signal,
        onError: ({ error }) => {
          failure = error;
        },
      });
      let firstMs = -1;
      let chunks = 0;
      let chars = 0;
      for await (const delta of result.textStream) {
        chunks++;
        if (firstMs < 0 && delta) firstMs = performance.now() - t0;
        chars += delta.length;
      }
      if (failure) throw new Error(`aisdk: ${failure?.message ?? failure}`);
      return { chunks, chars, firstMs };
    },
  };
}

async function exaiConsumer(base) {
  const { createClient, loadConfig } = await import(distModule('index.js'));
  // The default (shared) transport, exactly as an application would use it.
  const client = createClient('glm', {
    apiKey: 'x',
    baseURL: base,
    config: loadConfig({ env: {}, dotenvDir: false }),
  });
  return {
    close: () => {},
    async stream({ prompt = 'bench', signal, delays, onChunk, onResult } = {}) {
      const t0 = performance.now();
      const stream = await client.chat.completions.create(
        { model: MODEL, messages: messagesFor(prompt), stream: true },
        { signal },
      );
      let firstMs = -1;
      let chunks = 0;
      for await (const chunk of stream) {
        chunks++;
        if (delays && chunk.x_emulator_sent_at) delays.push(wallNow() - chunk.x_emulator_sent_at);
        if (firstMs < 0 && chunk.choices[0]?.delta?.content) firstMs = performance.now() - t0;
        onChunk?.(chunk, chunks);
      }
      const result = await stream.finalResult();
      if (result.error) throw new Error(`exai: ${result.error.message}`);
      onResult?.(result);
      return { chunks, chars: result.content.length, firstMs, metaChunks: result.metadata.chunks };
    },
  };
}

export async function libraryConsumer(kind, base) {
  if (kind === 'openai') return openaiConsumer(base);
  if (kind === 'aisdk') return aisdkConsumer(base);
  if (kind === 'exai') return exaiConsumer(base);
  throw new Error(`unknown consumer kind "${kind}"`);
}
