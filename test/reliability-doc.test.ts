// docs/reliability.md is generated from the fault matrix; this test fails when they drift apart.
import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderReliabilityDoc } from './faults/doc.js';

const DOC = resolve(import.meta.dirname, '../docs/reliability.md');

describe('docs/reliability.md', () => {
  it('matches the fault matrix the tests run', () => {
    const rendered = renderReliabilityDoc();
    if (process.env.UPDATE_DOCS) writeFileSync(DOC, rendered);
    expect(readFileSync(DOC, 'utf8')).toBe(rendered);
  });
});
