// The catalog as the markdown tables docs/providers.md shows (checked by test/providers-doc.test.ts).
import { DEFAULT_MODELS, MODELS, RETIRED, tokensLabel } from '../../src/providers/catalog.js';

export function catalogTables(): string {
  const rows = MODELS.map((m) => {
    const effort = m.reasoningEfforts?.length ? ` (${m.reasoningEfforts.join('/')})` : '';
    const model = `\`${m.id}\`${DEFAULT_MODELS[m.provider] === m.id ? ' (default)' : ''}`;
    return `| ${m.provider} | ${model} | ${tokensLabel(m.contextWindow)} | ${tokensLabel(m.maxOutput)} | ${m.reasoning}${effort} | ${m.vision} | ${m.toolStream ? 'yes' : '–'} | ${m.status} |`;
  });
  const retired = RETIRED.map((r) => `| \`${r.id}\` | ${r.retired} | \`${r.use}\` |`);
  return [
    '| provider | model | context | max output | reasoning | vision | tool_stream | status |',
    '|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    '| retired model | retired on | use instead |',
    '|---|---|---|',
    ...retired,
  ].join('\n');
}
