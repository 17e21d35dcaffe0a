// Finds model packs (embedded in the repo's models/ or pulled into $AGIQA_HOME/models/), validates
// their pack.json and checks every file's sha256 before anything is loaded.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { agiqaError, zodIssues } from '../errors/index.js';
import { packManifestSchema, type PackManifest } from './pack-manifest.js';

/** The packs shipped inside the repository (the embedded default lives here). */
export const EMBEDDED_PACKS_DIR = fileURLToPath(new URL('../../models/', import.meta.url));
export const DEFAULT_PACK = 'lite';

export interface LoadedPack {
  manifest: PackManifest;
  dir: string;
  /** Absolute path of each file by its pack-relative path. */
  files: Map<string, string>;
}

export function agiqaHome(home?: string): string {
  return resolve(home ?? process.env.AGIQA_HOME ?? join(homedir(), '.agiqa'));
}

/** Folders searched for packs, most specific first: the user's pulled packs, then the embedded ones. */
export function packSearchDirs(home?: string): string[] {
  return [join(agiqaHome(home), 'models'), EMBEDDED_PACKS_DIR];
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}

export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Locates pack `name` and validates it: pack.json against the schema, every file present with its
 * recorded sha256. Throws AGQ_ERR_PACK_NOT_FOUND / _INVALID / _FILE_MISSING / _FILE_CORRUPT.
 */
export async function loadPack(name: string, options: { home?: string | undefined; packDir?: string | undefined } = {}): Promise<LoadedPack> {
  const searched = options.packDir !== undefined ? [options.packDir] : packSearchDirs(options.home).map((d) => join(d, name));
  let dir: string | undefined;
  for (const candidate of searched) {
    if (await isDirectory(candidate)) {
      dir = candidate;
      break;
    }
  }
  if (dir === undefined) {
    // A pack `agiqa models pull` knows but nobody pulled yet: say how to get it. (Imported here, not at
    // the top: the catalogue reads its pins from the embedded packs folder this module defines.)
    const { knownPack } = await import('./clip/known-packs.js');
    if (options.packDir === undefined && knownPack(name) !== undefined) throw agiqaError('AGQ_ERR_PACK_NOT_PULLED', { pack: name, searched });
    throw agiqaError('AGQ_ERR_PACK_NOT_FOUND', { pack: name, searched });
  }

  const manifest = await readManifest(name, dir);
  const files = new Map<string, string>();
  for (const file of manifest.files) {
    const path = join(dir, file.path);
    let actual: string;
    try {
      actual = await sha256OfFile(path);
    } catch (cause) {
      throw agiqaError('AGQ_ERR_PACK_FILE_MISSING', { pack: name, file: file.path }, { cause });
    }
    if (actual !== file.sha256) {
      throw agiqaError('AGQ_ERR_PACK_FILE_CORRUPT', { pack: name, file: file.path, expected: file.sha256, actual });
    }
    files.set(file.path, path);
  }
  return { manifest, dir, files };
}

async function readManifest(name: string, dir: string): Promise<PackManifest> {
  const manifestPath = join(dir, 'pack.json');
  let text: string;
  try {
    text = await readFile(manifestPath, 'utf8');
  } catch (cause) {
    throw agiqaError('AGQ_ERR_PACK_FILE_MISSING', { pack: name, file: 'pack.json' }, { cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw agiqaError('AGQ_ERR_PACK_INVALID', { pack: name, issues: [`pack.json is not valid JSON (${(cause as Error).message})`] }, { cause });
  }
  const parsed = packManifestSchema.safeParse(json);
  if (!parsed.success) throw agiqaError('AGQ_ERR_PACK_INVALID', { pack: name, issues: zodIssues(parsed.error) });
  return parsed.data;
}

export interface PackSummary {
  name: string;
  version: string;
  aspects: string[];
  dir: string;
  embedded: boolean;
}

/** Every pack folder that has a readable pack.json, the user's shadowing embedded ones of the same name. */
export async function listPacks(home?: string): Promise<PackSummary[]> {
  const byName = new Map<string, PackSummary>();
  for (const root of packSearchDirs(home)) {
    let entries: string[];
    try {
      entries = await readdir(root);
    } catch {
      continue;
    }
    for (const entry of entries.sort()) {
      if (byName.has(entry)) continue;
      const dir = join(root, entry);
      try {
        const manifest = await readManifest(entry, dir);
        byName.set(entry, { name: manifest.name, version: manifest.version, aspects: manifest.aspects, dir, embedded: root === EMBEDDED_PACKS_DIR });
      } catch {
        // A folder without a valid pack.json is not a pack; `agiqa models verify` reports why.
      }
    }
  }
  return [...byName.values()];
}
