// `exai models`: providers and models with context windows, streaming on/off and key presence.
import type { Config } from '../config/index.js';
import { type ModelRow, modelRows } from '../providers/catalog.js';

export function modelsTable(config: Config): { rows: ModelRow[]; text: string } {
  const rows = modelRows(config);
  const header = ['provider', 'model', 'context', 'reasoning', 'streaming', 'key'];
  const body = rows.map((r) => [
    r.provider,
    `${r.model}${r.default ? ' (default)' : ''}`,
    `${Math.round(r.contextWindow / 1024)}K`,
    r.reasoning ? 'yes' : 'no',
    r.streaming ? 'on' : 'off',
    r.keySet ? 'set' : 'missing',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => (row[i] ?? '').length)));
  const line = (cells: string[]) =>
    `${cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd()}\n`;
  const text = line(header) + body.map(line).join('');
  return { rows, text };
}
