// `agiqa plugins install` on fake ComfyUI and AUTOMATIC1111 folders in a temp dir: copy, link,
// refusing to overwrite, --force, wrong folders, and that nothing else in the host changes.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { run } from '../../src/cli/commands/plugins.js';
import { installPlugin } from '../../src/cli/plugin-install.js';
import { captureOutput, type CapturedOutput } from './run-cli.js';

const MANIFEST = fileURLToPath(new URL('../../plugin-manifest/', import.meta.url));

let out: CapturedOutput;
let temp = '';

beforeEach(async () => {
  temp = await mkdtemp(join(tmpdir(), 'agiqa-plugins-'));
  out = captureOutput();
});
afterEach(async () => {
  out.restore();
  await rm(temp, { recursive: true, force: true });
});

/** A ComfyUI checkout as far as the installer can tell, with another node pack already in it. */
async function fakeComfyUI(dir = join(temp, 'ComfyUI')): Promise<string> {
  await mkdir(join(dir, 'comfy'), { recursive: true });
  await mkdir(join(dir, 'custom_nodes', 'ComfyUI-Manager'), { recursive: true });
  await writeFile(join(dir, 'main.py'), 'print("ComfyUI")\n');
  await writeFile(join(dir, 'custom_nodes', 'example_node.py.example'), '# example\n');
  await writeFile(join(dir, 'custom_nodes', 'ComfyUI-Manager', '__init__.py'), 'NODE_CLASS_MAPPINGS = {}\n');
  return dir;
}

async function fakeWebUI(): Promise<string> {
  const dir = join(temp, 'stable-diffusion-webui');
  await mkdir(join(dir, 'modules'), { recursive: true });
  await mkdir(join(dir, 'extensions', 'sd-webui-controlnet', 'scripts'), { recursive: true });
  await writeFile(join(dir, 'webui.py'), 'print("webui")\n');
  await writeFile(join(dir, 'extensions', 'put extensions here.txt'), '');
  await writeFile(join(dir, 'extensions', 'sd-webui-controlnet', 'scripts', 'controlnet.py'), '# controlnet\n');
  return dir;
}

/** Every path under `root` with its kind and content hash (a link: where it points). */
async function snapshot(root: string): Promise<Map<string, string>> {
  const entries = new Map<string, string>();
  const walk = async (dir: string): Promise<void> => {
    for (const name of await readdir(dir)) {
      const path = join(dir, name);
      const info = await lstat(path);
      const key = path.slice(root.length + 1);
      if (info.isSymbolicLink()) entries.set(key, `link ${await readlink(path)}`);
      else if (info.isDirectory()) {
        entries.set(key, 'dir');
        await walk(path);
      } else entries.set(key, `file ${createHash('sha256').update(await readFile(path)).digest('hex')} ${info.mode}`);
    }
  };
  await walk(root);
  return entries;
}

/** What changed between two snapshots: paths added, removed or different. */
function changes(before: Map<string, string>, after: Map<string, string>): string[] {
  const paths = new Set([...before.keys(), ...after.keys()]);
  return [...paths].filter((path) => before.get(path) !== after.get(path)).sort();
}

async function shippedFiles(plugin: string): Promise<string[]> {
  const files: string[] = [];
  const walk = async (dir: string, prefix: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (['tests', '__pycache__', '.pytest_cache'].includes(entry.name) || entry.name.endsWith('.pyc')) continue;
      if (entry.isDirectory()) await walk(join(dir, entry.name), `${prefix}${entry.name}/`);
      else files.push(`${prefix}${entry.name}`);
    }
  };
  await walk(join(MANIFEST, plugin), '');
  return files.sort();
}

describe('agiqa plugins install', () => {
  it('copies the A1111 extension into extensions/agiqa without its tests, and changes nothing else', async () => {
    const host = await fakeWebUI();
    const before = await snapshot(host);
    expect(await run(['install', '--a1111', host])).toBe(0);
    const target = join(host, 'extensions', 'agiqa');
    const shipped = await shippedFiles('a1111');
    expect(shipped).toContain('scripts/agiqa.py');
    expect(shipped).toContain('agiqa_a1111/client.py');
    const changed = changes(before, await snapshot(host));
    expect(changed).toContain('extensions/agiqa/scripts/agiqa.py');
    expect(changed.every((path) => path === 'extensions/agiqa' || path.startsWith('extensions/agiqa/'))).toBe(true);
    const installedFiles = [...(await snapshot(target)).entries()].filter(([, kind]) => kind.startsWith('file')).map(([path]) => path).sort();
    expect(installedFiles).toEqual(shipped);
    expect(await readFile(join(target, 'scripts', 'agiqa.py'), 'utf8')).toBe(await readFile(join(MANIFEST, 'a1111', 'scripts', 'agiqa.py'), 'utf8'));
    expect(out.stdout).toContain(`AUTOMATIC1111/Forge at ${host}:`);
    expect(out.stdout).toContain(`copied ${shipped.length} files from ${join(MANIFEST, 'a1111')} to ${target}`);
    expect(out.stdout).toContain('start the scorer with `npx agiqa serve`');
    expect(out.stderr).toBe('');
  });

  it('copies the ComfyUI node pack into custom_nodes/agiqa, and changes nothing else', async () => {
    const host = await fakeComfyUI();
    const before = await snapshot(host);
    expect(await run(['install', '--comfyui', host])).toBe(0);
    const changed = changes(before, await snapshot(host));
    expect(changed.length).toBeGreaterThan(1);
    expect(changed.every((path) => path === 'custom_nodes/agiqa' || path.startsWith('custom_nodes/agiqa/'))).toBe(true);
    expect(changed.some((path) => path.includes('/tests'))).toBe(false);
    expect(out.stdout).toContain(`copied ${(await shippedFiles('comfyui')).length} files`);
  });

  it('links with --link, and a second identical install is left as it is', async () => {
    const host = await fakeWebUI();
    const before = await snapshot(host);
    expect(await run(['install', '--a1111', host, '--link'])).toBe(0);
    const target = join(host, 'extensions', 'agiqa');
    expect((await lstat(target)).isSymbolicLink()).toBe(true);
    expect(await readlink(target)).toBe(join(MANIFEST, 'a1111'));
    expect(changes(before, await snapshot(host))).toEqual(['extensions/agiqa']);
    expect(out.stdout).toContain(`linked ${target} → ${join(MANIFEST, 'a1111')}`);
    out.stdout = '';
    expect(await run(['install', '--a1111', host, '--link'])).toBe(0);
    expect(out.stdout).toContain('already holds this version (a link to');
  });

  it('leaves an identical copy alone, refuses a different one, and replaces only that folder with --force', async () => {
    const host = await fakeComfyUI();
    expect(await run(['install', '--comfyui', host])).toBe(0);
    out.stdout = '';
    expect(await run(['install', '--comfyui', host])).toBe(0);
    expect(out.stdout).toContain('already holds this version (an identical copy); left as it is');

    const target = join(host, 'custom_nodes', 'agiqa');
    await writeFile(join(target, 'user-notes.txt'), 'mine\n');
    const edited = await snapshot(host);
    out.stdout = '';
    expect(await run(['install', '--comfyui', host])).toBe(1);
    expect(out.stderr).toMatch(new RegExp(`^agiqa: ${target.replaceAll('/', '\\/')} already exists and is not this version of the plugin \\(a folder with other contents\\); nothing was changed — Run again with --force .*\\[AGQ_ERR_PLUGIN_ALREADY_INSTALLED\\]\\n$`));
    expect(changes(edited, await snapshot(host))).toEqual([]);

    expect(await run(['install', '--comfyui', host, '--force'])).toBe(0);
    expect(out.stdout).toContain(`removed ${target} (a folder with other contents)`);
    const after = await snapshot(host);
    expect(changes(edited, after)).toEqual(['custom_nodes/agiqa/user-notes.txt']);
    expect(after.get('custom_nodes/ComfyUI-Manager/__init__.py')).toBe(edited.get('custom_nodes/ComfyUI-Manager/__init__.py'));
  });

  it('refuses to replace a link to elsewhere without --force, and with --force removes the link, not what it points to', async () => {
    const host = await fakeWebUI();
    const elsewhere = join(temp, 'someone-elses-agiqa');
    await mkdir(elsewhere);
    await writeFile(join(elsewhere, 'keep.txt'), 'keep\n');
    const target = join(host, 'extensions', 'agiqa');
    await symlink(elsewhere, target, 'dir');
    expect(await run(['install', '--a1111', host])).toBe(1);
    expect(out.stderr).toContain(`(a link to ${elsewhere})`);
    expect(await run(['install', '--a1111', host, '--force'])).toBe(0);
    expect((await lstat(target)).isDirectory()).toBe(true);
    expect(await readFile(join(elsewhere, 'keep.txt'), 'utf8')).toBe('keep\n');
  });

  it('says what is wrong with a folder that is not the UI, suggests the inner folder of a portable package, and changes nothing', async () => {
    const webui = await fakeWebUI();
    const before = await snapshot(temp);
    expect(await run(['install', '--comfyui', webui])).toBe(1);
    expect(out.stderr).toContain(`agiqa: ${webui} does not look like the ComfyUI folder: it has no custom_nodes/ folder and no main.py or comfy/ — `);
    expect(out.stderr).toContain('[AGQ_ERR_PLUGIN_HOST_INVALID]');

    const portable = join(temp, 'ComfyUI_windows_portable');
    await fakeComfyUI(join(portable, 'ComfyUI'));
    const portableBefore = await snapshot(temp);
    out.stderr = '';
    expect(await run(['install', '--comfyui', portable])).toBe(1);
    expect(out.stderr).toContain(`; did you mean ${join(portable, 'ComfyUI')}?`);
    expect(changes(portableBefore, await snapshot(temp))).toEqual([]);

    out.stderr = '';
    expect(await run(['install', '--a1111', join(temp, 'missing')])).toBe(1);
    expect(out.stderr).toContain(`${join(temp, 'missing')} does not exist or is not a folder, so it cannot be the AUTOMATIC1111/Forge install`);
    expect(out.stderr).toContain('[AGQ_ERR_PLUGIN_HOST_NOT_FOUND]');
    expect(changes(before, await snapshot(temp)).every((path) => path.startsWith('ComfyUI_windows_portable'))).toBe(true);
  });

  it('answers usage errors with exit code 2', async () => {
    expect(await run([])).toBe(2);
    expect(out.stderr).toContain('agiqa plugins needs an action: install');
    out.stderr = '';
    expect(await run(['install'])).toBe(2);
    expect(out.stderr).toContain('needs --comfyui <ComfyUI dir> or --a1111 <webui dir>');
    out.stderr = '';
    expect(await run(['install', '--a1111'])).toBe(2);
    expect(out.stderr).toContain('[AGQ_ERR_USAGE]');
    out.stderr = '';
    expect(await run(['uninstall', '--a1111', temp])).toBe(2);
    expect(out.stderr).toContain('unknown action "uninstall"');
    expect(await run(['--help'])).toBe(0);
    expect(out.stdout).toContain('Usage: agiqa plugins install');
  });

  it('fails with the catalog error when the plugin files are missing from the package', async () => {
    const host = await fakeWebUI();
    await expect(installPlugin('a1111', host, { link: false, force: false, sourceRoot: join(temp, 'no-manifest') })).rejects.toMatchObject({
      code: 'AGQ_ERR_PLUGIN_SOURCE_MISSING',
      message: `The plugin files are missing from this agiqa install: ${join(temp, 'no-manifest', 'a1111')} is not there`,
    });
    expect(await readdir(join(host, 'extensions'))).toEqual(['put extensions here.txt', 'sd-webui-controlnet']);
  });

  it('has every file it installs in the npm package, and no plugin tests', { timeout: 60_000 }, async () => {
    const root = fileURLToPath(new URL('../../', import.meta.url));
    const { stdout: packed } = await promisify(execFile)('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, maxBuffer: 64 * 1024 * 1024 });
    const files = new Set((JSON.parse(packed) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path));
    for (const plugin of ['a1111', 'comfyui']) {
      for (const file of await shippedFiles(plugin)) expect(files.has(`plugin-manifest/${plugin}/${file}`), file).toBe(true);
    }
    expect([...files].filter((path) => path.startsWith('plugin-manifest/') && /\/tests\/|\/testing\/|__pycache__/.test(path))).toEqual([]);
  });
});
