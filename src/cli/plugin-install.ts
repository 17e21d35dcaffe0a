// Installs the plugins of plugin-manifest/ into a generation UI's own folder: checks that the folder is
// really that UI, then copies (or links) one folder in, and touches nothing else of the host.
import { createHash } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, readlink, rm, stat, symlink, copyFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { agiqaError } from '../errors/index.js';

/** plugin-manifest/ of this package: shipped in the npm package (package.json `files`). */
export const PLUGIN_MANIFEST_DIR = fileURLToPath(new URL('../../plugin-manifest/', import.meta.url));

export interface HostKind {
  /** The UI's name in messages. */
  ui: string;
  /** Folder under plugin-manifest/. */
  plugin: string;
  /** Where the UI loads plugins from, relative to its folder. */
  pluginsFolder: string;
  /** One of these must exist in the UI's folder besides the plugins folder. */
  markers: string[];
  /** Folder of the UI inside a portable package, to suggest when the user points at the package. */
  portableInner: string;
  restart: string;
}

export const HOSTS = {
  comfyui: {
    ui: 'ComfyUI',
    plugin: 'comfyui',
    pluginsFolder: 'custom_nodes',
    markers: ['main.py', 'comfy'],
    portableInner: 'ComfyUI',
    restart: 'restart ComfyUI; the AGIQA nodes are under "AGIQA" in the node menu',
  },
  a1111: {
    ui: 'AUTOMATIC1111/Forge',
    plugin: 'a1111',
    pluginsFolder: 'extensions',
    markers: ['webui.py', 'modules'],
    portableInner: 'webui',
    restart: 'restart the web UI; the "AGIQA image scoring" accordion is in txt2img and img2img',
  },
} as const satisfies Record<string, HostKind>;

export type HostName = keyof typeof HOSTS;

/** Folder name the plugin gets inside the UI's plugins folder. */
export const INSTALL_NAME = 'agiqa';

// Development files of the plugins that have no business inside a user's UI.
const EXCLUDED = new Set(['tests', '__pycache__', '.pytest_cache']);
const excluded = (name: string): boolean => EXCLUDED.has(name) || name.endsWith('.pyc');

export interface InstallOptions {
  link: boolean;
  force: boolean;
  /** plugin-manifest/ to install from (tests point it elsewhere). */
  sourceRoot?: string;
}

export interface InstallReport {
  ui: string;
  host: string;
  target: string;
  /** What was done, one line each, in order. */
  actions: string[];
  next: string;
}

/**
 * Installs one plugin into the UI at `hostDir`.
 * @throws AGQ_ERR_PLUGIN_HOST_NOT_FOUND, AGQ_ERR_PLUGIN_HOST_INVALID, AGQ_ERR_PLUGIN_SOURCE_MISSING,
 *   AGQ_ERR_PLUGIN_ALREADY_INSTALLED, AGQ_ERR_PLUGIN_INSTALL_FAILED
 */
export async function installPlugin(name: HostName, hostDir: string, options: InstallOptions): Promise<InstallReport> {
  const kind: HostKind = HOSTS[name];
  const host = resolve(hostDir);
  await checkHost(kind, host);
  const source = join(resolve(options.sourceRoot ?? PLUGIN_MANIFEST_DIR), kind.plugin);
  if (!(await isDirectory(source))) throw agiqaError('AGQ_ERR_PLUGIN_SOURCE_MISSING', { dir: source });
  const target = join(host, kind.pluginsFolder, INSTALL_NAME);
  const actions: string[] = [];

  const existing = await describeExisting(target, source, options.link);
  if (existing === 'same') {
    actions.push(`${target} already holds this version (${options.link ? `a link to ${source}` : 'an identical copy'}); left as it is`);
    return { ui: kind.ui, host, target, actions, next: kind.restart };
  }
  if (existing !== 'absent') {
    if (!options.force) throw agiqaError('AGQ_ERR_PLUGIN_ALREADY_INSTALLED', { target, found: existing });
    await removeTarget(target);
    actions.push(`removed ${target} (${existing})`);
  }
  try {
    if (options.link) {
      // A junction on Windows: linking a folder needs no administrator rights that way.
      await symlink(source, target, process.platform === 'win32' ? 'junction' : 'dir');
      actions.push(`linked ${target} → ${source}`);
    } else {
      const files = await copyTree(source, target);
      actions.push(`copied ${files} files from ${source} to ${target}`);
    }
  } catch (error) {
    await removeTarget(target).catch(() => undefined);
    throw agiqaError('AGQ_ERR_PLUGIN_INSTALL_FAILED', { target, detail: (error as Error).message }, { cause: error });
  }
  return { ui: kind.ui, host, target, actions, next: kind.restart };
}

async function checkHost(kind: HostKind, host: string): Promise<void> {
  if (!(await isDirectory(host))) throw agiqaError('AGQ_ERR_PLUGIN_HOST_NOT_FOUND', { ui: kind.ui, dir: host });
  const missing: string[] = [];
  if (!(await isDirectory(join(host, kind.pluginsFolder)))) missing.push(`no ${kind.pluginsFolder}/ folder`);
  const markers = await Promise.all(kind.markers.map((marker) => exists(join(host, marker))));
  if (!markers.some(Boolean)) missing.push(`no ${kind.markers.map((m) => (m.includes('.') ? m : `${m}/`)).join(' or ')}`);
  if (missing.length === 0) return;
  const inner = join(host, kind.portableInner);
  const hint = (await isDirectory(join(inner, kind.pluginsFolder))) ? `did you mean ${inner}?` : '';
  throw agiqaError('AGQ_ERR_PLUGIN_HOST_INVALID', { ui: kind.ui, dir: host, missing, hint });
}

/** 'absent', 'same', or what is there instead, in words for the refusal message. */
async function describeExisting(target: string, source: string, link: boolean): Promise<string> {
  let info;
  try {
    info = await lstat(target);
  } catch {
    return 'absent';
  }
  if (info.isSymbolicLink()) {
    const pointsTo = resolve(dirname(target), await readlink(target));
    if (link && pointsTo === source) return 'same';
    return `a link to ${pointsTo}`;
  }
  if (!info.isDirectory()) return 'a file';
  if (link) return 'a copied install';
  const [installed, shipped] = await Promise.all([treeDigest(target), treeDigest(source)]);
  return installed === shipped ? 'same' : 'a folder with other contents';
}

/** Removes the target path only: a link is unlinked, never followed. */
async function removeTarget(target: string): Promise<void> {
  const info = await lstat(target).catch(() => null);
  if (info === null) return;
  await rm(target, { recursive: info.isDirectory() && !info.isSymbolicLink(), force: true });
}

async function copyTree(from: string, to: string): Promise<number> {
  await mkdir(to, { recursive: false });
  let files = 0;
  for (const entry of await readdir(from, { withFileTypes: true })) {
    if (excluded(entry.name)) continue;
    const source = join(from, entry.name);
    const destination = join(to, entry.name);
    if (entry.isDirectory()) files += await copyTree(source, destination);
    else if (entry.isFile()) {
      await copyFile(source, destination);
      files += 1;
    }
  }
  return files;
}

/** sha256 over the relative paths and bytes of the files a copy holds (excluded names skipped). */
async function treeDigest(root: string): Promise<string> {
  const hash = createHash('sha256');
  const walk = async (dir: string): Promise<void> => {
    const entries = (await readdir(dir, { withFileTypes: true })).filter((e) => !excluded(e.name)).sort((a, b) => a.name.localeCompare(b.name));
    for (const entry of entries) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else {
        hash.update(`${relative(root, path)}\0`);
        hash.update(entry.isFile() ? await readFile(path) : `<${entry.isSymbolicLink() ? 'link' : 'special'}>`);
        hash.update('\0');
      }
    }
  };
  await walk(root);
  return hash.digest('hex');
}

async function isDirectory(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null))?.isDirectory() ?? false;
}

async function exists(path: string): Promise<boolean> {
  return (await stat(path).catch(() => null)) !== null;
}
