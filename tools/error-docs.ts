// Renders docs/errors.md from the error catalog: `npx tsx tools/error-docs.ts --write`.
// test/errors/error-docs.test.ts fails when the committed file and the catalog disagree.
import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { errorCatalog } from '../src/errors/catalog.js';

export const ERROR_DOCS_PATH = fileURLToPath(new URL('../docs/errors.md', import.meta.url));

export function renderErrorDocs(): string {
  const escape = (s: string) => s.replaceAll('|', '\\|');
  const rows = Object.entries(errorCatalog).map(([code, entry]) => `| \`${code}\` | ${entry.status} | ${escape(entry.howToSolve)} |`);
  return [
    '# Errors',
    '',
    'Every error agiqa reports carries one of these codes: the CLI prints it in brackets after the message,',
    'the HTTP API answers `{"error":{"code","message","details"}}` with the status below.',
    'Generated from `src/errors/catalog.ts` by `npx tsx tools/error-docs.ts --write`; do not edit by hand.',
    '',
    '| code | HTTP | how to solve |',
    '|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

if (process.argv.includes('--write')) {
  await writeFile(ERROR_DOCS_PATH, renderErrorDocs());
  process.stdout.write(`wrote ${ERROR_DOCS_PATH}\n`);
}
