// `chat` as an MCP task (2025-11-25 tasks), driven by the SDK v1 client's own task API over stdio
// (and over HTTP, where the tools/call exchange ends as soon as the task is created): tasks/get
// shows status and the latest progress, tasks/result the answer, tasks/cancel aborts the upstream
// request within 100 ms.

import type { Client as V1Client } from '@modelcontextprotocol/sdk/client/index.js';
import { CallToolResultSchema, CreateTaskResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Emulator, startEmulator } from '../src/emulator/index.js';
import {
  answerFor,
  type Connected,
  connectHttpV1,
  connectStdioV1,
  exaiResult,
  type HttpChild,
  nextClientClose,
  now,
  serverEnv,
  startHttpChild,
  textOf,
} from './helpers/mcp.js';

let emu: Emulator;
let conn: Connected<V1Client>;

beforeAll(async () => {
  emu = await startEmulator({ paceMs: 30 });
  conn = await connectStdioV1(serverEnv(emu));
});
afterAll(async () => {
  await conn?.close();
  await emu?.close();
});

const MODEL = 'glm-4.5-flash';

describe('chat as an MCP task (SDK v1 client)', () => {
  it('lists chat as a tool that may run as a task, and the server offers tasks for tools/call', async () => {
    const { tools } = await conn.client.listTools();
    expect(tools.find((t) => t.name === 'chat')?.execution).toEqual({ taskSupport: 'optional' });
    expect(conn.client.getServerCapabilities()?.tasks?.requests?.tools?.call).toBeDefined();
  });

  it('runs to the end: taskCreated, statuses with progress, then the answer from tasks/result', async () => {
    await runsToTheEnd(conn.client, 'as a task');
  }, 30_000);

  it('tasks/cancel closes the upstream socket within 100 ms', async () => {
    const prompt = 'task to cancel';
    const created = await conn.client.request(
      {
        method: 'tools/call',
        params: { name: 'chat', arguments: { prompt, model: MODEL }, task: { ttl: 60_000 } },
      },
      CreateTaskResultSchema,
    );
    const taskId = created.task.taskId;
    expect(created.task.status).toBe('working');
    // Wait until the answer is streaming.
    for (
      let i = 0;
      i < 100 && !emu.requests.some((r) => r.body && JSON.stringify(r.body).includes(prompt));
      i++
    ) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 300));
    const closed = nextClientClose(emu);
    const cancelledAt = now();
    const cancelled = await conn.client.experimental.tasks.cancelTask(taskId);
    const ms = (await closed) - cancelledAt;
    console.log(`[mcp tasks] tasks/cancel → upstream closed in ${ms.toFixed(1)} ms`);
    expect(ms).toBeLessThan(100);
    expect(cancelled.status).toBe('cancelled');
    expect((await conn.client.experimental.tasks.getTask(taskId)).status).toBe('cancelled');
  }, 30_000);

  it('an unknown task id is a clear error', async () => {
    await expect(conn.client.experimental.tasks.getTask('t_nope')).rejects.toThrow(
      /unknown or expired task "t_nope"/,
    );
  });
});

/** A task with a progress token, followed to its result: statuses carry the answer's tail. */
async function runsToTheEnd(client: V1Client, prompt: string): Promise<void> {
  const stream = client.experimental.tasks.callToolStream(
    { name: 'chat', arguments: { prompt, model: MODEL } },
    CallToolResultSchema,
    { task: { ttl: 60_000 }, onprogress: () => undefined },
  );
  const kinds: string[] = [];
  const messages: string[] = [];
  let result: unknown;
  for await (const m of stream) {
    kinds.push(m.type);
    if (m.type === 'taskStatus' && m.task.statusMessage) messages.push(m.task.statusMessage);
    if (m.type === 'result') result = m.result;
    if (m.type === 'error') throw m.error;
  }
  const expected = answerFor('glm', MODEL, prompt).content;
  expect(kinds[0]).toBe('taskCreated');
  expect(kinds.at(-1)).toBe('result');
  expect(kinds.filter((k) => k === 'taskStatus').length).toBeGreaterThanOrEqual(2);
  // tasks/get carried the answer's tail while it was being written.
  expect(
    messages.some(
      (m) => m.length > 0 && m !== 'started' && expected.includes(m.replace(/^…/, '').slice(0, 20)),
    ),
  ).toBe(true);
  expect(textOf(result)).toBe(expected);
  expect(exaiResult(result).finish_reason).toBe('stop');
}

describe('chat as an MCP task over HTTP (SDK v1 client)', () => {
  let server: HttpChild;
  let http: Connected<V1Client>;
  beforeAll(async () => {
    server = await startHttpChild(serverEnv(emu));
    http = await connectHttpV1(server.url);
  });
  afterAll(async () => {
    await http?.close();
    await server?.stop();
  });

  // Before: the task's progress waited on the tools/call exchange's connection, which closes once
  // the task is created: no status carried progress, and the result was lost.
  it('runs to the end although the exchange that created it has ended', async () => {
    await runsToTheEnd(http.client, 'as a task over http');
  }, 30_000);
});
