import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { errorCatalog } from '../../src/errors/catalog.js';
import { ERROR_DOCS_PATH, renderErrorDocs } from '../../tools/error-docs.js';

describe('docs/errors.md', () => {
  it('matches the catalog (regenerate with `npx tsx tools/error-docs.ts --write`)', async () => {
    expect(await readFile(ERROR_DOCS_PATH, 'utf8')).toBe(renderErrorDocs());
  });

  it('has a how-to-solve text and a 4xx/5xx status for every code', () => {
    for (const [code, entry] of Object.entries(errorCatalog)) {
      expect(code).toMatch(/^AGQ_ERR_[A-Z0-9_]+$/);
      expect(entry.howToSolve.length, code).toBeGreaterThan(10);
      expect(entry.status, code).toBeGreaterThanOrEqual(400);
      expect(entry.status, code).toBeLessThan(600);
    }
  });
});
