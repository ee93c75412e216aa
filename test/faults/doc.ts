// Renders docs/reliability.md from the fault matrix rows, so the document says what the tests check.
import { type Expectation, FAULT_CASES, type FaultCase, MATRIX_ENV } from './cases.js';

function metadata(e: Expectation): string {
  const parts: string[] = [];
  if (e.result === 'error') return 'no result: the call fails with the error';
  if (e.streamed !== undefined) parts.push(`streamed: ${e.streamed}`);
  if (e.retries !== undefined) parts.push(`retries: ${e.retries}`);
  if (e.fallback) parts.push('fallback: {reason}');
  if (e.recovered) parts.push('recovered: true');
  parts.push(`interrupted: ${e.result === 'prefix'}`);
  if (e.finishReason) parts.push(`finish_reason: ${e.finishReason}`);
  return parts.join(', ');
}

function cell(e: Expectation | undefined): [string, string] {
  if (!e) return ['–', '–'];
  return [e.sees, metadata(e)];
}

function script(c: FaultCase): string {
  const parts = c.script.map((f) => `\`${JSON.stringify(f)}\``);
  if (c.always) parts.push(`every stream request: \`${JSON.stringify(c.always)}\``);
  if (c.cancelAfterChunks !== undefined) parts.push(`caller aborts after ${c.cancelAfterChunks} chunks`);
  if (c.env)
    parts.push(
      Object.entries(c.env)
        .map(([k, v]) => `${k}=${v}`)
        .join(' '),
    );
  return parts.join(' then ') || 'none';
}

export function renderReliabilityDoc(cases: FaultCase[] = FAULT_CASES): string {
  const rows = cases.map((c) => {
    const [s1, m1] = cell(c.expect.stream);
    const [s2, m2] = cell(c.expect.nostream);
    return `| ${c.name} | ${script(c)} | ${s1} | ${m1} | ${s2} | ${m2} |`;
  });
  const env = Object.entries(MATRIX_ENV)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ');
  return `# Reliability: the fault matrix

<!-- Generated from test/faults/cases.ts by test/reliability-doc.test.ts; do not edit by hand.
     Regenerate with: UPDATE_DOCS=1 npx vitest run test/reliability-doc.test.ts -->

Every row below is a test, run for both providers (GLM and Kimi) and for each consumer: the library
(\`for await\` + \`finalResult()\`, \`test/fault-matrix.library.test.ts\`), the CLI (\`exai chat --json\`,
\`test/fault-matrix.cli.test.ts\`) and the MCP server (\`chat\` tool with progress,
\`test/fault-matrix.mcp.test.ts\`). Each run asserts the final content — the exact answer, or an exact
prefix of it with \`interrupted: true\` and an error naming the cause — the metadata below, that the
text shown live (joined deltas / progress deltas) equals the final content, and that no connection
to the provider stays open afterwards. Faults come from the emulator's fault script
(\`src/emulator/faults.ts\`). Settings for the matrix: ${env}.

| fault | emulator script | streaming: user sees | streaming: metadata | non-streaming: user sees | non-streaming: metadata |
|---|---|---|---|---|---|
${rows.join('\n')}

## How exai decides

- **Before the first token** (network error, 408/409/429/5xx, first-token timeout, a broken or
  empty stream): retry with exponential backoff and jitter (base 500 ms, at most 30 s a wait;
  \`Retry-After\` in seconds or as an HTTP date is honoured up to that cap), at most
  \`EXAI_MAX_RETRIES\` times; then one non-streaming request (\`fallback.reason\` says why). Other
  4xx answers are not retried: one error with provider, status and the provider's own message.
- **Mid-stream** (drop, idle timeout, error frame, malformed frame, end without \`finish_reason\`):
  what was delivered stays delivered; exai asks the provider to continue the partial answer (at most
  2 continuations) and streams only the new text (\`recovered: true\`). If only reasoning had
  arrived, it asks again; the result's \`reasoning\` then holds what was shown, the broken
  reasoning followed by the new one. Partial tool calls are not continued. If continuation fails, the result is
  the partial text with \`interrupted: true\` and \`error\` saying what happened.
- A stream with a \`finish_reason\` is complete, whether or not \`[DONE]\` follows and whatever
  happens to the connection afterwards; \`[DONE]\` without any \`finish_reason\` is a cut stream.
- **Output limit**: past \`EXAI_MAX_OUTPUT_BYTES\` the answer is cut on a character boundary,
  \`finish_reason: "length"\`, \`interrupted: true\`, \`error.code: "output_limit"\`.
- **Cancellation** (AbortSignal, Ctrl-C, MCP \`notifications/cancelled\`, HTTP disconnect): the
  upstream socket is destroyed at once; what was shown is a prefix of the answer.
- **Slow consumers**: exai stops reading the socket while 256 chunks wait unread, so TCP pushes
  back on the provider and memory stays bounded (\`test/soak.test.ts\`).

## What the providers document about continuation

- **Kimi (Moonshot)** documents *partial mode*: the last message is
  \`{"role": "assistant", "content": "<prefix>", "partial": true}\`; the model continues the prefix
  and the reply does not repeat it. It works with streaming. exai uses it as documented.
- **GLM (Z.ai)** documents no prefill or partial flag. exai sends the partial answer as a trailing
  assistant message (assistant prefill). Should the model repeat the prefix instead of continuing,
  exai's echo filter (\`src/streaming/stitch.ts\`) drops the repetition, so the joined text still has
  no gap and no overlap; this is property-tested for any split point and any chunking.
`;
}
