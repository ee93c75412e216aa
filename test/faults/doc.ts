// Renders docs/reliability.md from the fault matrix rows, so the document says what the tests check.
import type { FaultSpec } from '../../src/emulator/index.js';
import { type Expectation, FAULT_CASES, type FaultCase, forProvider, MATRIX_ENV } from './cases.js';

function metadata(e: Expectation): string {
  const parts: string[] = [];
  if (e.result === 'error') return 'no result: the call fails with the error';
  if (e.streamed !== undefined) parts.push(`streamed: ${e.streamed}`);
  if (e.fallback) parts.push('fallback: {reason}');
  if (e.recovered) parts.push('recovered: true');
  parts.push(`interrupted: ${e.result === 'prefix' || e.result === 'interrupted'}`);
  if (e.finishReason) parts.push(`finish_reason: ${e.finishReason}`);
  if (e.toolCall === true) parts.push('toolCalls: the whole call');
  if (e.toolCall === false) parts.push('toolCalls: []');
  return parts.join(', ');
}

function cell(e: Expectation | undefined): [string, string] {
  if (!e) return ['–', '–'];
  return [e.sees, metadata(e)];
}

const spent = (e: Expectation | undefined) => (e ? String(e.requests) : '–');

function specs(list: FaultSpec[]): string[] {
  return list.map((f) => `\`${JSON.stringify(f)}\``);
}

/** The script, with GLM's and Kimi's shown apart where they differ. */
function perProvider(render: (p: 'glm' | 'kimi') => string[]): string[] {
  const glm = render('glm');
  const kimi = render('kimi');
  if (glm.join() === kimi.join()) return glm;
  return [`GLM ${glm.join(' then ')}; Kimi ${kimi.join(' then ')}`];
}

function script(c: FaultCase): string {
  const steps = perProvider((p) => specs(forProvider(c.script, p)));
  if (c.always) {
    const always = perProvider((p) => specs([forProvider(c.always as FaultCase['always'], p) as FaultSpec]));
    steps.push(`every request: ${always.join(' ')}`);
  }
  const notes: string[] = [];
  if (c.tools) notes.push('the request offers one tool (library only)');
  if (c.cancelAfterChunks !== undefined) notes.push(`caller aborts after ${c.cancelAfterChunks} chunks`);
  if (c.env)
    notes.push(
      Object.entries(c.env)
        .map(([k, v]) => `${k}=${v}`)
        .join(' '),
    );
  return [steps.join(' then '), ...notes].filter(Boolean).join('; ') || 'none';
}

export function renderReliabilityDoc(cases: FaultCase[] = FAULT_CASES): string {
  const rows = cases.map((c) => {
    const [s1, m1] = cell(c.expect.stream);
    const [s2, m2] = cell(c.expect.nostream);
    const requests = `${spent(c.expect.stream)} / ${spent(c.expect.nostream)}`;
    return `| ${c.name} | ${script(c)} | ${requests} | ${s1} | ${m1} | ${s2} | ${m2} |`;
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
\`test/fault-matrix.mcp.test.ts\`); rows whose request offers a tool run through the library only,
since \`exai chat\` and the MCP \`chat\` tool take no tools. Each run asserts the final content — the
exact answer, or an exact prefix of it with \`interrupted: true\` and an error naming the cause — the
metadata below, the number of HTTP requests (both \`metadata.requests\` and the emulator's own count,
exactly: the "requests spent" column), that the text shown live (joined deltas / progress deltas)
equals the final content, and that no connection to the provider stays open afterwards. Faults come
from the emulator's fault script (\`src/emulator/faults.ts\`). Settings for the matrix: ${env}.

| fault | emulator script | requests spent (streaming / non-streaming) | streaming: user sees | streaming: metadata | non-streaming: user sees | non-streaming: metadata |
|---|---|---|---|---|---|---|
${rows.join('\n')}

## How exai decides

- **One request budget per call** (\`src/streaming/budget.ts\`). Every request that delivers no new
  answer text (nothing, a failure, reasoning or whitespace only, or only an echo of what was shown)
  spends one of \`EXAI_MAX_RETRIES\` units; a request that brings new text spends none. The
  non-streaming fallback is one request, made at most once per call; continuations are made only
  after answer text was shown, and at most two in a row bring nothing before the call ends. So a
  fault that repeats on every request costs at most \`EXAI_MAX_RETRIES + 2\` requests (4 with the
  defaults), and \`metadata.requests\` says how many were made (\`retries\` is that minus one).
- **Before the first token** (network error, 408/409/429/5xx, first-token timeout, a retryable
  error frame, a broken or empty stream): retry with exponential backoff and jitter (base 500 ms,
  at most 30 s a wait; \`Retry-After\` in seconds or as an HTTP date, or Kimi's "try again after N
  seconds", is honoured up to that cap) while the budget lasts; then one non-streaming request
  (\`fallback.reason\` says why).
- **What cannot succeed is not retried** (\`src/providers/error-codes.ts\`, one table per provider
  with the meaning and source of each code). GLM 1113 (insufficient balance), 1211 (unknown model),
  1261 (prompt too long), 1301, 1304 and the 100x auth codes; Kimi
  \`exceeded_current_quota_error\`, \`invalid_authentication_error\` and the other client errors; and
  every other 4xx than 408/409/429 — whether they come as an HTTP status or as an error frame — end
  the call at once with an \`APIError\` whose \`code\` is the provider's own ("1113" out of credit,
  "1302" slow down), with provider, status, message, request id (the frame's \`request_id\` when
  there is one) and \`retried\`. Rate limits (GLM 1302/1303/1305, Kimi \`rate_limit_reached_error\`,
  \`engine_overloaded_error\`) and 5xx are retried with backoff.
- **Streaming refused**: a 4xx whose message says the model or endpoint does not support streaming
  is answered by one non-streaming request at once; \`fallback.reason\` quotes the provider.
- **Mid-stream** (drop, idle timeout, error frame, malformed frame, GLM \`network_error\`, end without
  \`finish_reason\`): what was delivered stays delivered; exai asks the provider to continue the
  partial answer and streams only the new text (\`recovered: true\`). If only reasoning or
  whitespace had arrived, it asks again from scratch, without a prefill (GLM's leading \`"\\n"\` is
  not an answer), and the result's \`reasoning\` is the new attempt's, not the abandoned one
  repeated. If continuation fails, the result is the partial text with \`interrupted: true\` and
  \`error\` saying what happened.
- **Tool calls are whole or absent**: a tool call is in \`toolCalls\` only when its stream finished
  with it. A stream that breaks inside a tool call, or ends with \`finish_reason: "tool_calls"\` and
  no call, is asked again from scratch when no answer text was shown; otherwise the result is
  interrupted, without the half call, and its error names it. A call keeps the first id it was given.
- A stream with a \`finish_reason\` is complete, whether or not \`[DONE]\` follows and whatever
  happens to the connection afterwards; \`[DONE]\` without any \`finish_reason\` is a cut stream.
- **Output limit**: past \`EXAI_MAX_OUTPUT_BYTES\` the answer is cut on a character boundary,
  \`finish_reason: "length"\`, \`interrupted: true\`, \`error.code: "output_limit"\`.
- **Cancellation** (AbortSignal, Ctrl-C, MCP \`notifications/cancelled\`, HTTP disconnect): the
  upstream socket is destroyed at once; what was shown is a prefix of the answer.
- **Slow consumers**: exai stops reading the socket while 256 chunks wait unread, so TCP pushes
  back on the provider and memory stays bounded (\`test/soak.test.ts\`, which also checks the
  budget over 2,000 streams with random faults).

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
