// `exai models`: the catalog with this configuration (defaults, streaming, key), and with `--live`
// what each provider's own `GET /models` lists now.
import type { Config } from '../config/index.js';
import { type ModelRow, modelRows, tokensLabel, withLive } from '../providers/catalog.js';
import { type LiveListing, liveModels } from '../providers/live-models.js';
import { sharedTransport } from '../providers/transport.js';
import type { ProviderName } from '../types.js';

const PROVIDERS: readonly ProviderName[] = ['glm', 'kimi'];

export interface ModelsTable {
  rows: ModelRow[];
  live?: LiveListing[];
  text: string;
}

export function modelsTable(config: Config, live?: LiveListing[]): ModelsTable {
  const rows = live ? withLive(modelRows(config), live) : modelRows(config);
  const header = ['provider', 'model', 'context', 'output', 'reasoning', 'vision', 'status', 'checked'];
  if (live) header.push('listed');
  const body = rows.map((r) => {
    const cells = [
      r.provider,
      `${r.model}${r.default ? ' (default)' : ''}`,
      tokensLabel(r.contextWindow),
      tokensLabel(r.maxOutput),
      r.reasoning,
      r.vision,
      r.status,
      r.checked,
    ];
    if (live) cells.push(r.listed === undefined ? '?' : r.listed ? 'yes' : 'NO');
    return cells;
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) =>
    `${cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd()}\n`;
  const notes = PROVIDERS.map((p) => {
    const c = config[p];
    const listing = live?.find((l) => l.provider === p);
    const state = `${withoutCredentials(c.baseURL)}, key ${c.apiKey ? 'set' : 'missing'}, streaming ${c.streamEnabled ? 'on' : 'off'}`;
    return `${p}: ${state}${listing ? ` · live: ${listing.note}` : ''}\n`;
  });
  const text = `${line(header) + body.map(line).join('')}\n${notes.join('')}`;
  return live ? { rows, live, text } : { rows, text };
}

/** A base URL as it may be shown: any `user:password@` part left out. */
function withoutCredentials(url: string): string {
  try {
    const u = new URL(url);
    if (!u.username && !u.password) return url;
    u.username = '';
    u.password = '';
    return u.href.replace(/\/$/, '');
  } catch {
    return url;
  }
}

/** Asks both providers at once; each listing that fails says why in its note. */
export function liveListings(config: Config): Promise<LiveListing[]> {
  return Promise.all(PROVIDERS.map((p) => liveModels(config[p], sharedTransport())));
}
