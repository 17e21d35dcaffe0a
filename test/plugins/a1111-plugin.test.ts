// The AUTOMATIC1111/Forge extension (plugin-manifest/a1111): its Python tests, run with Debian's python
// against stand-ins of the web UI's modules and a real `agiqa serve` they start themselves
// (bin/agiqa.js → dist, built by `npm test` first). A failure shows the whole unittest output.
import { join } from 'node:path';
import { describe, it } from 'vitest';
import { expectUnittestPasses, ROOT } from './run-python.js';

const EXTENSION = join(ROOT, 'plugin-manifest/a1111');

describe('AUTOMATIC1111/Forge extension', () => {
  it('passes its Python tests against a real agiqa serve', { timeout: 180_000 }, async () => {
    await expectUnittestPasses(['-s', join(EXTENSION, 'tests')]);
  });
});
