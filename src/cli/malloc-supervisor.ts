// `agiqa serve` on Linux/glibc re-executes itself once with GLIBC_TUNABLES set so that freed megabyte
// image buffers stay mapped (docs/server.md, "keep freed image buffers mapped": +15 % images/s measured).
// glibc reads the variable only at process start, hence the second process. This one stays as a thin
// supervisor: it forwards signals, and exits with its child's code.
import { spawn } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';

/** The measured setting: serve allocations up to 32 MB from the heaps, and do not trim them back. */
export const MALLOC_TUNABLES = 'glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=536870912';
/** Set in the child, so that it never re-executes again. */
export const SUPERVISED_ENV = 'AGIQA_SUPERVISED';
/** `off` (or 0, false, no) keeps the process as it is. */
export const OPT_OUT_ENV = 'AGIQA_MALLOC_TUNING';

const FORWARDED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

export type TuningPlan = { reexec: true; env: NodeJS.ProcessEnv } | { reexec: false; reason: string };

/** Whether and how to re-execute: a pure decision over the environment, for tests. */
export function mallocTuningPlan(env: NodeJS.ProcessEnv, system: { platform: string; glibc: boolean }, optOutFlag = false): TuningPlan {
  if (optOutFlag) return { reexec: false, reason: '--no-malloc-tuning' };
  if (/^(off|0|false|no)$/i.test(env[OPT_OUT_ENV] ?? '')) return { reexec: false, reason: `${OPT_OUT_ENV}=${env[OPT_OUT_ENV]}` };
  if (env[SUPERVISED_ENV] === '1') return { reexec: false, reason: 'already supervised' };
  if (system.platform !== 'linux' || !system.glibc) return { reexec: false, reason: 'not Linux with glibc' };
  const current = env.GLIBC_TUNABLES ?? '';
  // A user who set malloc tunables of their own keeps them as they are.
  if (/glibc\.malloc\.(mmap|trim)_threshold/.test(current)) return { reexec: false, reason: 'GLIBC_TUNABLES already sets the malloc thresholds' };
  const tunables = current === '' ? MALLOC_TUNABLES : `${current}:${MALLOC_TUNABLES}`;
  return { reexec: true, env: { ...env, GLIBC_TUNABLES: tunables, [SUPERVISED_ENV]: '1' } };
}

/** True on glibc (not musl): Node's report names the glibc it runs on. */
export function runsOnGlibc(): boolean {
  const header = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header;
  return typeof header?.glibcVersionRuntime === 'string';
}

/** True when this process is the `agiqa` CLI itself (not a test runner calling main() in-process). */
export function isAgiqaBin(): boolean {
  const script = process.argv[1];
  if (script === undefined) return false;
  try {
    return realpathSync(script) === realpathSync(fileURLToPath(new URL('../../bin/agiqa.js', import.meta.url)));
  } catch {
    return false;
  }
}

/**
 * Runs the same command line again with `env` and waits for it. The child gets its own process group,
 * so a terminal's Ctrl-C reaches only this process and is forwarded once (twice would mean "now").
 * An IPC channel lets the child notice if this process is killed outright and shut down gracefully.
 * Resolves with the child's exit code (128 + signal number when a signal ended it).
 */
export function superviseChild(env: NodeJS.ProcessEnv): Promise<number> {
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { env, stdio: ['inherit', 'inherit', 'inherit', 'ipc'], detached: true });
  const forward = (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  for (const signal of FORWARDED) process.on(signal, forward);
  return new Promise((resolve) => {
    child.on('error', (error) => {
      for (const signal of FORWARDED) process.off(signal, forward);
      process.stderr.write(`agiqa: could not start the server process (${error.message}); run with ${OPT_OUT_ENV}=off to skip the malloc setting\n`);
      resolve(1);
    });
    child.on('exit', (code, signal) => {
      for (const s of FORWARDED) process.off(s, forward);
      resolve(code ?? 128 + (signal === null ? 0 : (constants.signals[signal] ?? 0)));
    });
  });
}

/**
 * In the supervised child: leave when the supervisor disappears (killed with SIGKILL, which cannot be
 * forwarded), the way a SIGTERM would. The channel does not keep the process alive by itself.
 */
export function watchSupervisor(onGone: () => void): void {
  if (process.env[SUPERVISED_ENV] !== '1' || process.channel === undefined) return;
  process.channel.unref();
  process.once('disconnect', onGone);
}
