// Runs a command's `run` in this process and keeps what it writes to stdout and stderr, so CLI tests
// can check the exact lines a user would see without starting a process.
import { vi } from 'vitest';

export interface CapturedOutput {
  /** Everything written to process.stdout since capture began (tests may reset it to ''). */
  stdout: string;
  stderr: string;
  /** Puts process.stdout/stderr.write back. */
  restore(): void;
}

/** Captures process.stdout/stderr writes until `restore()` (or vi.restoreAllMocks()). */
export function captureOutput(): CapturedOutput {
  const stdoutWrite = vi.spyOn(process.stdout, 'write');
  const stderrWrite = vi.spyOn(process.stderr, 'write');
  const output: CapturedOutput = {
    stdout: '',
    stderr: '',
    restore: () => {
      stdoutWrite.mockRestore();
      stderrWrite.mockRestore();
    },
  };
  stdoutWrite.mockImplementation((chunk) => ((output.stdout += String(chunk)), true));
  stderrWrite.mockImplementation((chunk) => ((output.stderr += String(chunk)), true));
  return output;
}

/** Runs `command` with output captured only while it runs; resolves with its exit code and output. */
export async function runCaptured(command: () => Promise<number>): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = captureOutput();
  try {
    const code = await command();
    return { code, stdout: output.stdout, stderr: output.stderr };
  } finally {
    output.restore();
  }
}
