// The MCP server instance: `chat`, `chat_resume`, `listmodels` and `version` on an SDK McpServer.
import { McpServer } from '@modelcontextprotocol/server';
import { sharedTransport } from '../providers/transport.js';
import { NAME, VERSION } from '../version.js';
import { chatTool } from './chat-tool.js';
import {
  listModels,
  listModelsText,
  liveListings,
  negotiatedProtocol,
  versionInfo,
  versionText,
} from './info-tools.js';
import { redactOutbound } from './redaction.js';
import { resumeTool } from './resume/resume-tool.js';
import type { Runtime } from './runtime.js';
import {
  CHAT_DESCRIPTION,
  chatInput,
  LISTMODELS_DESCRIPTION,
  listModelsInput,
  listModelsOutput,
  RESUME_DESCRIPTION,
  resumeInput,
  VERSION_DESCRIPTION,
  versionOutput,
} from './schemas.js';
import { installTasks, TASK_CAPABILITIES } from './tasks.js';

const INSTRUCTIONS =
  'exai asks GLM (Z.ai) and Kimi (Moonshot) models. Use `chat` for a question; the result text is ' +
  'the answer. A long answer comes in parts: follow "[answer continues: ...]" with `chat_resume`. ' +
  "Pass a result's continuation_id to `chat` to ask a follow-up. `listmodels` shows the models " +
  'and which providers have an API key.';

/** A fresh server with the four tools; `rt` is shared by every instance of one `serve`. */
export function buildServer(rt: Runtime): McpServer {
  const server = new McpServer(
    { name: NAME, title: 'exai: GLM and Kimi', version: VERSION },
    { capabilities: { tools: {}, tasks: TASK_CAPABILITIES }, instructions: INSTRUCTIONS },
  );

  const chat = server.registerTool(
    'chat',
    {
      title: 'Ask GLM or Kimi',
      description: CHAT_DESCRIPTION,
      inputSchema: chatInput,
      // No outputSchema: hosts that see one hand the model structuredContent instead of the text.
      annotations: { readOnlyHint: true, openWorldHint: true },
    },
    (args, ctx) => chatTool(args, ctx, rt),
  );

  server.registerTool(
    'chat_resume',
    {
      title: 'Next part of a long GLM or Kimi answer',
      description: RESUME_DESCRIPTION,
      inputSchema: resumeInput,
      annotations: { readOnlyHint: false, openWorldHint: true },
    },
    (args, ctx) => resumeTool(args, ctx, rt),
  );

  server.registerTool(
    'listmodels',
    {
      title: 'List GLM and Kimi models',
      description: LISTMODELS_DESCRIPTION,
      inputSchema: listModelsInput,
      outputSchema: listModelsOutput,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async (args) => {
      const live = args.live ? await liveListings(rt.config, rt.transport ?? sharedTransport()) : undefined;
      const data = listModels(rt.config, live);
      return { content: [{ type: 'text', text: listModelsText(data) }], structuredContent: data };
    },
  );

  server.registerTool(
    'version',
    {
      title: 'exai version',
      description: VERSION_DESCRIPTION,
      outputSchema: versionOutput,
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    (ctx) => {
      const data = versionInfo(rt.config, negotiatedProtocol(server, ctx));
      return { content: [{ type: 'text', text: versionText(data) }], structuredContent: data };
    },
  );

  // Hosts that run tools as MCP tasks may run `chat` as one; registerTool has no field for it.
  (chat as { execution?: { taskSupport: string } }).execution = { taskSupport: 'optional' };
  installTasks(server, rt);
  return redactOutbound(server);
}
