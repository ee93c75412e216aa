// The data behind `listmodels` and `version`: pure functions of the configuration.
import {
  LATEST_PROTOCOL_VERSION,
  type McpServer,
  PROTOCOL_VERSION_META_KEY,
  type ServerContext,
} from '@modelcontextprotocol/server';
import { type Config, chooseProvider } from '../config/index.js';
import { modelRows } from '../providers/catalog.js';
import type { ProviderName } from '../types.js';
import { NAME, VERSION } from '../version.js';
import type { ListModelsOutput, VersionOutput } from './schemas.js';

const PROVIDERS: readonly ProviderName[] = ['glm', 'kimi'];

/** The same rows as `exai models`. */
export function listModels(config: Config): ListModelsOutput {
  return {
    defaultProvider: chooseProvider(config),
    models: modelRows(config),
  };
}

export function listModelsText(data: ListModelsOutput): string {
  const lines = [`default provider: ${data.defaultProvider}`];
  for (const provider of PROVIDERS) {
    const rows = data.models.filter((r) => r.provider === provider);
    const first = rows[0];
    if (!first) continue;
    lines.push(
      '',
      `${provider} (API key ${first.keySet ? 'set' : 'missing'}, streaming ${first.streaming ? 'on' : 'off'}):`,
    );
    for (const r of rows) {
      const notes = [`${Math.round(r.contextWindow / 1024)}K context`];
      if (r.reasoning) notes.push('reasoning');
      if (r.default) notes.push('default');
      lines.push(`  ${r.model} — ${notes.join(', ')}`);
    }
  }
  return lines.join('\n');
}

export function versionInfo(config: Config, protocolVersion: string): VersionOutput {
  return {
    name: NAME,
    version: VERSION,
    protocolVersion,
    node: process.versions.node,
    providers: PROVIDERS.map((p) => ({
      provider: p,
      configured: Boolean(config[p].apiKey),
      defaultModel: config[p].defaultModel,
      streaming: config[p].streamEnabled,
    })),
  };
}

export function versionText(v: VersionOutput): string {
  const providers = v.providers
    .map((p) => `${p.provider} ${p.configured ? 'configured' : 'not configured (no API key)'}`)
    .join(', ');
  return `${v.name} ${v.version} · MCP protocol ${v.protocolVersion} · Node ${v.node} · ${providers}`;
}

/**
 * The protocol version this exchange uses: negotiated by `initialize` on a stateful connection;
 * over stateless HTTP, the `MCP-Protocol-Version` header the client sends with every request
 * (2025 era) or the version in the request's envelope (2026 era).
 */
export function negotiatedProtocol(server: McpServer, ctx: ServerContext): string {
  const negotiated = server.server.getNegotiatedProtocolVersion();
  if (negotiated) return negotiated;
  const header = ctx.http?.req?.headers.get('mcp-protocol-version');
  if (header) return header;
  const fromEnvelope = (ctx.mcpReq.envelope as Record<string, unknown> | undefined)?.[
    PROTOCOL_VERSION_META_KEY
  ];
  return typeof fromEnvelope === 'string' ? fromEnvelope : LATEST_PROTOCOL_VERSION;
}
