// The data behind `listmodels` and `version`: pure functions of the configuration.
import {
  LATEST_PROTOCOL_VERSION,
  type McpServer,
  PROTOCOL_VERSION_META_KEY,
  type ServerContext,
} from '@modelcontextprotocol/server';
import { type Config, chooseProvider } from '../config/index.js';
import { modelRows, tokensLabel, withLive } from '../providers/catalog.js';
import { type LiveListing, liveModels } from '../providers/live-models.js';
import type { Transport } from '../providers/transport.js';
import type { ProviderName } from '../types.js';
import { NAME, VERSION } from '../version.js';
import type { ListModelsOutput, VersionOutput } from './schemas.js';

const PROVIDERS: readonly ProviderName[] = ['glm', 'kimi'];

/** The same rows as `exai models`; with `live`, marked by what each provider's GET /models lists. */
export function listModels(config: Config, live?: LiveListing[]): ListModelsOutput {
  const rows = modelRows(config);
  return live
    ? { defaultProvider: chooseProvider(config), models: withLive(rows, live), live }
    : { defaultProvider: chooseProvider(config), models: rows };
}

/** Both providers' live listings (a failure is a note, never an error). */
export function liveListings(config: Config, transport: Transport): Promise<LiveListing[]> {
  return Promise.all(PROVIDERS.map((p) => liveModels(config[p], transport)));
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
    const listing = data.live?.find((l) => l.provider === provider);
    if (listing) lines.push(`  live: ${listing.note}`);
    for (const r of rows) {
      const notes = [`${tokensLabel(r.contextWindow)} context`, `${tokensLabel(r.maxOutput)} output`];
      if (r.reasoning !== 'none') notes.push(r.reasoning === 'always' ? 'always reasons' : 'reasoning');
      if (r.vision !== 'none') notes.push(`vision (${r.vision})`);
      if (r.status === 'legacy') notes.push('legacy');
      if (r.default) notes.push('default');
      if (r.listed === false) notes.push('NOT listed by the provider now');
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
