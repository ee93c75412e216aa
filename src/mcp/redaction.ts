// The MCP side of the one redaction path: every message a server instance sends (results with
// their metadata and fallback reasons, progress, errors) is redacted as a value before any
// transport serialises it, whatever the transport.
import type { McpServer, Transport } from '@modelcontextprotocol/server';
import { redactValue } from '../log.js';

export function redactOutbound(server: McpServer): McpServer {
  const connect = server.connect.bind(server);
  server.connect = (transport: Transport) => {
    const send = transport.send.bind(transport);
    transport.send = (message, options) => send(redactValue(message), options);
    return connect(transport);
  };
  return server;
}
