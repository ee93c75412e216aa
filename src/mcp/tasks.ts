// MCP tasks (2025-11-25, experimental): a task-augmented `tools/call` of `chat` returns a task at
// once; `tasks/get` shows its status and latest progress, `tasks/result` waits for the answer,
// `tasks/cancel` aborts it upstream. The SDK v2 parses the task vocabulary but has no task runtime,
// so this module installs the handlers itself. Tasks live in the process that runs them.
import { randomBytes } from 'node:crypto';
import type { CallToolResult, McpServer, ServerContext } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { chatTool } from './chat-tool.js';
import { toolError } from './errors.js';
import type { Runtime } from './runtime.js';
import { chatInput } from './schemas.js';

type Status = 'working' | 'completed' | 'failed' | 'cancelled';

interface TaskRecord {
  taskId: string;
  status: Status;
  statusMessage?: string;
  createdAt: string;
  lastUpdatedAt: string;
  ttl: number;
  controller: AbortController;
  result: Promise<CallToolResult>;
}

/** The wire shape of a task (`tasks/get`, `tasks/cancel`, `tasks/list`). */
function view(t: TaskRecord) {
  return {
    taskId: t.taskId,
    status: t.status,
    ...(t.statusMessage ? { statusMessage: t.statusMessage } : {}),
    createdAt: t.createdAt,
    lastUpdatedAt: t.lastUpdatedAt,
    ttl: t.ttl,
    pollInterval: POLL_MS,
  };
}

const POLL_MS = 500;
const RELATED_TASK = 'io.modelcontextprotocol/related-task';
const MAX_TTL_MS = 24 * 3600 * 1000;

const tasksByRuntime = new WeakMap<Runtime, Map<string, TaskRecord>>();
function tasksOf(rt: Runtime): Map<string, TaskRecord> {
  let m = tasksByRuntime.get(rt);
  if (!m) {
    m = new Map();
    tasksByRuntime.set(rt, m);
  }
  return m;
}

export const TASK_CAPABILITIES = { list: {}, cancel: {}, requests: { tools: { call: {} } } };

type Handler = (
  request: { method: string; params?: Record<string, unknown> },
  ctx: ServerContext,
) => Promise<unknown>;
interface HandlerTable {
  _getRequestHandler(method: string): Handler | undefined;
  _requestHandlers: Map<string, Handler>;
}

// Built once: every HTTP request gets a fresh server, and zod schemas are costly to create.
const taskIdParams = z.looseObject({ taskId: z.string() });
const listParams = z.looseObject({});

/** Installs the task handlers on `server` (after its tools are registered). */
export function installTasks(server: McpServer, rt: Runtime): void {
  const low = server.server as unknown as HandlerTable;
  const callTool = low._getRequestHandler('tools/call');
  if (!callTool) throw new Error('tools must be registered before tasks are installed');
  // Replaces the SDK's tools/call entry (the typed surface offers no task-augmented calls): a call
  // with `task` on `chat` becomes a task, every other call goes to the SDK's handler unchanged.
  low._requestHandlers.set('tools/call', async (request, ctx) => {
    const params = request.params ?? {};
    if (params.task === undefined || params.name !== 'chat') return callTool(request, ctx);
    return { task: view(startTask(rt, params, ctx)) };
  });
  const tasks = tasksOf(rt);
  const find = (taskId: string) => {
    const t = tasks.get(taskId);
    if (!t) throw new Error(`unknown or expired task "${taskId}"`);
    return t;
  };
  server.server.setRequestHandler('tasks/get', { params: taskIdParams }, async (p) => view(find(p.taskId)));
  server.server.setRequestHandler('tasks/result', { params: taskIdParams }, async (p) => {
    const t = find(p.taskId);
    const result = await t.result;
    return { ...result, _meta: { ...result._meta, [RELATED_TASK]: { taskId: t.taskId } } };
  });
  server.server.setRequestHandler('tasks/cancel', { params: taskIdParams }, async (p) => {
    const t = find(p.taskId);
    if (t.status === 'working') {
      t.controller.abort();
      update(t, 'cancelled', 'cancelled by the client');
    }
    return view(t);
  });
  server.server.setRequestHandler('tasks/list', { params: listParams }, async () => ({
    tasks: [...tasks.values()].map(view),
  }));
}

function update(t: TaskRecord, status: Status, message?: string): void {
  if (t.status !== 'working') return;
  t.status = status;
  if (message !== undefined) t.statusMessage = message;
  t.lastUpdatedAt = new Date().toISOString();
}

function startTask(rt: Runtime, params: Record<string, unknown>, ctx: ServerContext): TaskRecord {
  const requested = Number((params.task as { ttl?: unknown } | undefined)?.ttl);
  const ttl =
    Number.isFinite(requested) && requested > 0
      ? Math.min(requested, MAX_TTL_MS)
      : rt.config.storeTtlS * 1000;
  const now = new Date().toISOString();
  const controller = new AbortController();
  const t: TaskRecord = {
    taskId: `t_${randomBytes(12).toString('base64url')}`,
    status: 'working',
    statusMessage: 'started',
    createdAt: now,
    lastUpdatedAt: now,
    ttl,
    controller,
    result: Promise.resolve({ content: [] }),
  };
  // The task outlives the tools/call exchange: its own signal, progress mirrored into the status.
  // No `http`: the tools/call exchange (whose connection progress would wait on) ends at once.
  const { http: _exchange, ...rest } = ctx;
  const taskCtx: ServerContext = {
    ...rest,
    mcpReq: {
      ...ctx.mcpReq,
      signal: controller.signal,
      notify: async (n) => {
        const message = (n.params as { message?: unknown } | undefined)?.message;
        if (n.method === 'notifications/progress' && typeof message === 'string') {
          t.statusMessage = message;
          t.lastUpdatedAt = new Date().toISOString();
        }
        // Where the exchange is over (stateless HTTP), progress is only in tasks/get.
        await ctx.mcpReq.notify(n).catch(() => undefined);
      },
      // No ping at the end: the result goes out through tasks/result, not after the last notification.
      send: (async () => ({})) as unknown as ServerContext['mcpReq']['send'],
    },
  };
  const parsed = chatInput.safeParse(params.arguments ?? {});
  t.result = (async () => {
    if (!parsed.success) return toolError(new Error(parsed.error.issues.map((i) => i.message).join('; ')));
    // A task waits for the whole answer: the call budget is for hosts that cut tool calls.
    return chatTool({ ...parsed.data, wait_ms: 0 }, taskCtx, rt);
  })();
  void t.result.then(
    (r) =>
      update(
        t,
        controller.signal.aborted ? 'cancelled' : 'completed',
        r.isError ? 'failed: see the result' : 'done',
      ),
    () => update(t, 'failed', 'internal error'),
  );
  const tasks = tasksOf(rt);
  tasks.set(t.taskId, t);
  setTimeout(() => tasks.delete(t.taskId), ttl).unref();
  return t;
}
