// docs/providers.md shows the catalog as it is in the code: one source of truth, no drift.
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { catalogTables } from './helpers/catalog-table.js';

it('docs/providers.md holds the current catalog tables', () => {
  const doc = readFileSync(new URL('../docs/providers.md', import.meta.url), 'utf8');
  expect(doc).toContain(catalogTables());
});
