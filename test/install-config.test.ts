// A clean install stays quiet and never downloads onnxruntime-node's CUDA libraries: npm (≥ 11) reads
// the project's configuration without an unknown key, and `allowScripts` lets only the install scripts
// the project needs run (onnxruntime-node's postinstall would fetch the CUDA provider from NuGet).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { allowScripts: Record<string, boolean>; engines: Record<string, string> };

function npm(args: string[]): { stdout: string; stderr: string } {
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^npm_config_/i.test(key)));
  let stderr = '';
  try {
    const stdout = execFileSync('npm', args, { cwd: ROOT, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return { stdout, stderr };
  } catch (error) {
    stderr = String((error as { stderr?: unknown }).stderr ?? '');
    throw new Error(`npm ${args.join(' ')} failed: ${stderr}`);
  }
}

describe('install configuration', () => {
  it('npm reads the project configuration without an unknown-key warning', () => {
    const result = execFileSync('npm', ['config', 'list'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_loglevel: 'warn' } });
    expect(result).not.toMatch(/onnxruntime-node-install/);
    // execFileSync hides stderr on success: run once more capturing both streams.
    const both = execFileSync('sh', ['-c', 'npm config list 2>&1 >/dev/null'], { cwd: ROOT, encoding: 'utf8' });
    expect(both).not.toMatch(/Unknown (project|user|env) config/);
    expect(existsSync(`${ROOT}.npmrc`) ? readFileSync(`${ROOT}.npmrc`, 'utf8') : '').not.toMatch(/onnxruntime-node-install/);
  });

  it('allowScripts runs better-sqlite3 and nothing that downloads, and the npm that honours it is required', () => {
    expect(pkg.allowScripts['better-sqlite3']).toBe(true);
    expect(pkg.allowScripts['onnxruntime-node']).toBe(false);
    expect(pkg.engines.npm).toBe('>=11');
    // Every dependency in the lockfile that has an install script is named in allowScripts, so none
    // runs (or is blocked) unreviewed.
    const lock = JSON.parse(readFileSync(new URL('../package-lock.json', import.meta.url), 'utf8')) as { packages: Record<string, { hasInstallScript?: boolean }> };
    const withScripts = Object.entries(lock.packages)
      .filter(([path, entry]) => path !== '' && entry.hasInstallScript === true)
      .map(([path]) => path.replace(/^.*node_modules\//, ''));
    expect(withScripts.filter((name) => !(name in pkg.allowScripts))).toEqual([]);
    expect(npm(['--version']).stdout.trim().split('.').map(Number)[0]).toBeGreaterThanOrEqual(11);
  });
});
