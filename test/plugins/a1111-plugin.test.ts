// The AUTOMATIC1111/Forge extension (plugin-manifest/a1111): its Python tests, run with Debian's python
// against stand-ins of the web UI's modules and a real `agiqa serve` they start themselves
// (bin/agiqa.js → dist, built by `npm test` first). A failure shows the whole unittest output.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const EXTENSION = join(ROOT, 'plugin-manifest/a1111');
const PYTHON = process.env.AGIQA_PYTHON ?? '/usr/bin/python3';

function runPython(args: string[]): Promise<{ code: number | null; output: string }> {
  // The tests start their own servers; the caller's AGIQA_* settings (a token, a URL) must not reach them.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('AGIQA_')));
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, args, { cwd: ROOT, env: { ...env, PYTHONDONTWRITEBYTECODE: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += String(chunk)));
    child.stderr.on('data', (chunk) => (output += String(chunk)));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

describe('AUTOMATIC1111/Forge extension', () => {
  it('passes its Python tests against a real agiqa serve', { timeout: 180_000 }, async () => {
    const probe = await runPython(['-c', 'import numpy, PIL']);
    expect(probe.code, `${PYTHON} needs numpy and PIL (Debian: apt-get install python3-numpy python3-pil):\n${probe.output}`).toBe(0);
    const run = await runPython(['-m', 'unittest', 'discover', '-s', join(EXTENSION, 'tests'), '-v']);
    expect(run.code, run.output).toBe(0);
    expect(run.output).toMatch(/Ran \d+ tests/);
    expect(run.output).not.toMatch(/skipped=/); // every test ran (torch is installed where the suite runs)
  });
});
