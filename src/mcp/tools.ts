// The MCP server instance: `chat`, `listmodels` and `version` registered on an SDK McpServer.
import { LATEST_PROTOCOL_VERSION, McpServer, PROTOCOL_VERSION_META_KEY } from '@modelcontextprotocol/server';
import { sharedTransport } from '../providers/transport.js';
import { NAME, VERSION } from '../version.js';
import { chatTool } from './chat-tool.js';
import { listModels, listModelsText, liveListings, versionInfo, versionText } from './info-tools.js';
import { redactOutbound } from './redaction.js';
import type { Runtime } from './runtime.js';
import {
  CHAT_DESCRIPTION,
  chatInput,
  chatOutput,
  LISTMODELS_DESCRIPTION,
  listModelsInput,
  listModelsOutput,
  VERSION_DESCRIPTION,
  versionOutput,
} from './schemas.js';

const INSTRUCTIONS =
  'exai asks GLM (Z.ai) and Kimi (Moonshot) models. Use `chat` for a question; its answer streams ' +
  'as progress notifications and the result holds the complete answer. `listmodels` shows the ' +
  'models and which providers have an API key.';

/** A fresh server with the three tools; `rt` is shared by every instance of one `serve`. */
export function buildServer(rt: Runtime): McpServer {
  const server = new McpServer(
    { name: NAME, title: 'exai: GLM and Kimi', version: VERSION },
    { capabilities: { tools: {} }, instructions: INSTRUCTIONS },
  );

  server.registerTool(
    'chat',
    {
      title: 'Ask GLM or Kimi',
      description: CHAT_DESCRIPTION,
      inputSchema: chatInput,
      outputSchema: chatOutput,
      annotations: { readOnlyHint: true, openWorldHint: true },
    },
    (args, ctx) => chatTool(args, ctx, rt),
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
      const envelope = ctx.mcpReq.envelope as Record<string, unknown> | undefined;
      const fromEnvelope = envelope?.[PROTOCOL_VERSION_META_KEY];
      const protocol =
        server.server.getNegotiatedProtocolVersion() ??
        (typeof fromEnvelope === 'string' ? fromEnvelope : LATEST_PROTOCOL_VERSION);
      const data = versionInfo(rt.config, protocol);
      return { content: [{ type: 'text', text: versionText(data) }], structuredContent: data };
    },
  );

  return redactOutbound(server);
}
