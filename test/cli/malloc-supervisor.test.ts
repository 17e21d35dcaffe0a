// The malloc supervisor of `agiqa serve`: the decision (pure), and the real bin on this machine —
// re-executed once with GLIBC_TUNABLES, signals forwarded once, the child's exit code, the opt-outs,
// and a child that leaves when its supervisor is killed outright.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { MALLOC_TUNABLES, mallocTuningPlan, runsOnGlibc } from '../../src/cli/malloc-supervisor.js';
import { BIN, serveEnv } from '../e2e/serve-process.js';

const glibc = { platform: 'linux', glibc: true };

describe('mallocTuningPlan', () => {
  it('re-executes on Linux/glibc with the measured setting, keeping other tunables', () => {
    expect(mallocTuningPlan({}, glibc)).toEqual({ reexec: true, env: { GLIBC_TUNABLES: MALLOC_TUNABLES, AGIQA_SUPERVISED: '1' } });
    const plan = mallocTuningPlan({ GLIBC_TUNABLES: 'glibc.pthread.rseq=0' }, glibc);
    expect(plan).toMatchObject({ reexec: true, env: { GLIBC_TUNABLES: `glibc.pthread.rseq=0:${MALLOC_TUNABLES}` } });
  });

  it('stays as it is when opted out, already supervised, tuned by the user, or not on glibc', () => {
    expect(mallocTuningPlan({}, glibc, true)).toMatchObject({ reexec: false });
    for (const value of ['off', '0', 'false', 'NO']) expect(mallocTuningPlan({ AGIQA_MALLOC_TUNING: value }, glibc)).toMatchObject({ reexec: false });
    expect(mallocTuningPlan({ AGIQA_MALLOC_TUNING: 'on' }, glibc)).toMatchObject({ reexec: true });
    expect(mallocTuningPlan({ AGIQA_SUPERVISED: '1' }, glibc)).toMatchObject({ reexec: false, reason: 'already supervised' });
    expect(mallocTuningPlan({ GLIBC_TUNABLES: 'glibc.malloc.trim_threshold=1' }, glibc)).toMatchObject({ reexec: false });
    expect(mallocTuningPlan({}, { platform: 'darwin', glibc: false })).toMatchObject({ reexec: false });
    expect(mallocTuningPlan({}, { platform: 'linux', glibc: false })).toMatchObject({ reexec: false });
  });
});

interface Served {
  child: ChildProcess;
  out: () => string;
  err: () => string;
  exited: Promise<number | string | null>;
}

const started: ChildProcess[] = [];
afterEach(() => {
  for (const child of started.splice(0)) {
    for (const pid of childrenOf(child.pid!)) process.kill(pid, 'SIGKILL');
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter((p) => p !== '').map(Number);
  } catch {
    return [];
  }
}

function serve(args: string[], env: Record<string, string> = {}): Served {
  const home = mkdtempSync(join(tmpdir(), 'agiqa-malloc-'));
  const child = spawn(process.execPath, [BIN, 'serve', ...args], { env: serveEnv(home, { AGIQA_LOG_LEVEL: 'info', ...env }), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  started.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk) => (out += String(chunk)));
  child.stderr!.on('data', (chunk) => (err += String(chunk)));
  // A signal (a crash) reads as its name, so a failure says which one.
  const exited = new Promise<number | string | null>((resolve) => child.on('exit', (code, signal) => resolve(code ?? signal)));
  return { child, out: () => out, err: () => err, exited };
}

async function listening(served: Served): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!served.out().includes('listening on')) {
    if (Date.now() > deadline || served.child.exitCode !== null) throw new Error(`agiqa serve did not start: ${served.err()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const gone = (pid: number) => !existsSync(`/proc/${pid}`) || / Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));

describe.runIf(process.platform === 'linux' && runsOnGlibc())('agiqa serve under the malloc supervisor', { timeout: 120_000 }, () => {
  it('runs the server as its child with the setting, passes a Ctrl-C on once and exits with its code', async () => {
    const served = serve(['--port', '0']);
    await listening(served);
    const [server] = childrenOf(served.child.pid!);
    expect(server).toBeDefined();
    const environ = readFileSync(`/proc/${server}/environ`, 'latin1');
    expect(environ).toContain('AGIQA_SUPERVISED=1');
    expect(environ).toContain('glibc.malloc.mmap_threshold=33554432');
    expect(environ).toContain('trim_threshold=536870912');
    // A terminal's Ctrl-C goes to the whole foreground process group.
    process.kill(-served.child.pid!, 'SIGINT');
    expect(await served.exited).toBe(0);
    // Delivered once: a second SIGINT would have meant "now" (exit 1).
    expect(served.err().match(/"signal":"SIGINT"/g)).toHaveLength(1);
    expect(gone(server!)).toBe(true);
  });

  it("exits with the child's failure code", async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as { port: number }).port;
    try {
      const served = serve(['--port', String(port)]);
      expect(await served.exited).toBe(1);
      expect(served.err()).toContain('AGQ_ERR_SERVER_LISTEN');
    } finally {
      holder.close();
    }
  });

  it('opts out by flag or environment: one process, no setting', async () => {
    for (const [args, env] of [[['--no-malloc-tuning'], {}], [[], { AGIQA_MALLOC_TUNING: 'off' }]] as const) {
      const served = serve(['--port', '0', ...args], env);
      await listening(served);
      expect(childrenOf(served.child.pid!)).toEqual([]);
      expect(readFileSync(`/proc/${served.child.pid}/environ`, 'latin1')).not.toContain('glibc.malloc');
      served.child.kill('SIGTERM');
      expect(await served.exited, `stderr: ${served.err().slice(-3000)}`).toBe(0);
    }
  });

  it('the server shuts down by itself when its supervisor is killed outright', async () => {
    const served = serve(['--port', '0']);
    await listening(served);
    const [server] = childrenOf(served.child.pid!);
    served.child.kill('SIGKILL');
    await served.exited;
    const deadline = Date.now() + 30_000;
    while (!gone(server!) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(gone(server!)).toBe(true);
  });
});
