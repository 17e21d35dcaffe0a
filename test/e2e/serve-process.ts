// `agiqa serve` as a child process for end-to-end tests: the built bin (run `npm run build` first),
// an ephemeral loopback port, a throwaway AGIQA_HOME and none of the caller's AGIQA_* settings.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = join(ROOT, 'bin/agiqa.js');

export interface ServeProcess {
  child: ChildProcess;
  url: string;
  stderr: () => string;
  exited: Promise<number | null>;
  /** Throws with the server's stderr if it has exited (a pack that fails to load ends `agiqa serve`). */
  alive: () => void;
}

const running: ChildProcess[] = [];

/** SIGKILLs every server these tests started and that still runs (call it in afterEach). */
export function killServeProcesses(): void {
  for (const child of running.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

/** The environment of a test server: the caller's, minus AGIQA_*, plus one worker and quiet logs. */
export function serveEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('AGIQA_')));
  return { ...clean, AGIQA_HOME: home, AGIQA_LOG_LEVEL: 'warn', AGIQA_WORKERS: '1', ...extra };
}

/**
 * Runs `agiqa <args>` (the built bin) to its exit in `home` (or `cwd`) with the test environment;
 * resolves with its exit code and output. Killed by killServeProcesses() should a test give up on it.
 */
export function runAgiqaProcess(
  args: string[],
  home: string,
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd, env: serveEnv(home, options.env), stdio: ['ignore', 'pipe', 'pipe'] });
  running.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk) => (out += String(chunk)));
  child.stderr!.on('data', (chunk) => (err += String(chunk)));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, out, err })));
}

/** Starts `agiqa serve --port 0 ...args` in `home` and resolves once it printed the URL it listens on. */
export async function startServeProcess(home: string, args: string[] = [], extraEnv: Record<string, string> = {}): Promise<ServeProcess> {
  const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', ...args], { cwd: home, env: serveEnv(home, extraEnv), stdio: ['ignore', 'pipe', 'pipe'] });
  running.push(child);
  let err = '';
  child.stderr!.on('data', (chunk) => (err += String(chunk)));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let exitCode: number | null | undefined;
  void exited.then((code) => (exitCode = code));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk) => {
      out += String(chunk);
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match) resolve(match[1]!);
    });
    void exited.then((code) => reject(new Error(`agiqa serve exited with ${code}: ${err}`)));
  });
  const alive = () => {
    if (exitCode !== undefined) throw new Error(`agiqa serve exited with ${exitCode}:\n${err}`);
  };
  return { child, url, stderr: () => err, exited, alive };
}

/**
 * The pid of the process that serves: on Linux/glibc `agiqa serve` re-executes itself once under a
 * thin supervisor (the malloc setting), so the server is the started process's only child.
 */
export function servingPid(child: ChildProcess): number {
  try {
    const children = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/).filter((pid) => pid !== '');
    if (children.length === 1) return Number(children[0]);
  } catch {
    // not Linux, or already gone: the started process is the server
  }
  return child.pid!;
}

/** Polls /v1/health until the pack is loaded; throws with the server's stderr if it dies or turns unhealthy. */
export async function waitUntilReady(served: ServeProcess, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const health = await fetch(`${served.url}/v1/health`)
      .then((r) => r.json() as Promise<{ status: string }>)
      .catch(async (error: unknown) => {
        await new Promise((resolve) => setTimeout(resolve, 200));
        served.alive();
        throw error;
      });
    if (health.status === 'ok') return;
    if (health.status === 'unhealthy') throw new Error(`unhealthy: ${JSON.stringify(health)}\n${served.stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`not ready after ${timeoutMs / 1000} s: ${served.stderr()}`);
}
