// Runs the plugins' Python (Debian's interpreter, or AGIQA_PYTHON) from the repository root, for the
// tests of plugin-manifest/*: their unittest suites and single scripts.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const PYTHON = process.env.AGIQA_PYTHON ?? '/usr/bin/python3';

/** Runs PYTHON with `args`, `input` on stdin; resolves with the exit code and stdout+stderr interleaved. */
export function runPython(args: string[], input = ''): Promise<{ code: number | null; output: string }> {
  // The suites start their own servers; the caller's AGIQA_* settings (a token, a URL) must not reach them.
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('AGIQA_')));
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, args, { cwd: ROOT, env: { ...env, PYTHONDONTWRITEBYTECODE: '1' }, stdio: ['pipe', 'pipe', 'pipe'] });
    child.stdin.end(input);
    let output = '';
    child.stdout.on('data', (chunk) => (output += String(chunk)));
    child.stderr.on('data', (chunk) => (output += String(chunk)));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

/**
 * Runs `python -m unittest discover` with `discoverArgs` (e.g. `-s tests -t top`) and expects every
 * test to run and pass; a failure shows the whole unittest output.
 */
export async function expectUnittestPasses(discoverArgs: string[]): Promise<void> {
  const probe = await runPython(['-c', 'import numpy, PIL']);
  expect(probe.code, `${PYTHON} needs numpy and PIL (Debian: apt-get install python3-numpy python3-pil):\n${probe.output}`).toBe(0);
  const run = await runPython(['-m', 'unittest', 'discover', ...discoverArgs, '-v']);
  expect(run.code, run.output).toBe(0);
  expect(run.output).toMatch(/Ran \d+ tests/);
  expect(run.output).not.toMatch(/skipped=/); // every test ran (torch is installed where the suite runs)
}
