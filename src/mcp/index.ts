// The exai MCP server: tools `chat`, `chat_resume`, `listmodels`, `version` (and `chat` as an MCP
// task), served on stdio or Streamable HTTP.
import type { McpServer } from '@modelcontextprotocol/server';
import { createRuntime, type ServeOptions } from './runtime.js';
import { buildServer } from './tools.js';

export { type HttpServerHandle, serveHttp } from './http.js';
export type { ServeOptions } from './runtime.js';
export { serveStdio } from './stdio.js';

/**
 * A server with the tools registered, for any SDK transport (e.g. `InMemoryTransport` in tests).
 * Upstream requests use `opts.transport`, else the library's shared pool.
 */
export function createExaiMcpServer(opts: ServeOptions): McpServer {
  return buildServer(createRuntime(opts, false));
}
