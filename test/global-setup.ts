// One temporary folder for the whole test run: every test file, server process and Python suite it
// starts makes its temporary homes, databases and images under it (TMPDIR is inherited), and the
// run removes it at the end instead of leaving thousands of agiqa-* folders in /tmp.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default function setup(): () => void {
  const runDir = mkdtempSync(join(tmpdir(), 'agiqa-test-run-'));
  process.env.TMPDIR = runDir;
  return () => rmSync(runDir, { recursive: true, force: true });
}
