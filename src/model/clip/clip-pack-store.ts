// The user's installed CLIP-family packs under $AGIQA_HOME/models/: writing a pack.json with the
// sha256 of every file (after a pull, or for a folder copied in by hand), verifying, removing.
import { access, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { agiqaError } from '../../errors/index.js';
import { ASPECTS } from '../aspects.js';
import { filesDigest, packManifestSchema, type PackManifest } from '../pack-manifest.js';
import { agiqaHome, EMBEDDED_PACKS_DIR, loadPack, sha256OfFile } from '../packs.js';
import { KNOWN_PACKS, packFilesOf, type KnownPack } from './known-packs.js';

/** Prompts whose embeddings a generated pack keeps cached. */
const PROMPT_CACHE_SIZE = 256;

export function userPacksDir(home?: string): string {
  return join(agiqaHome(home), 'models');
}

export function installedPackDir(name: string, home?: string): string {
  return join(userPacksDir(home), name);
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/** Files of `known` that `dir` lacks, all of them at once. */
export async function missingFiles(dir: string, known: KnownPack): Promise<string[]> {
  const missing: string[] = [];
  for (const file of packFilesOf(known)) if (!(await exists(join(dir, file)))) missing.push(file);
  return missing;
}

/**
 * Hashes every file of a known pack in `dir` and writes its pack.json, rounds included; the version
 * carries the digest of the files. A pinned pack's files must match their pinned sha256. Throws
 * AGQ_ERR_PACK_INCOMPLETE listing every missing file, AGQ_ERR_PACK_FILE_CORRUPT for a file off its pin.
 */
export async function writeClipPackManifest(dir: string, known: KnownPack, options: { revision?: string | undefined } = {}): Promise<PackManifest> {
  const missing = await missingFiles(dir, known);
  if (missing.length > 0) throw agiqaError('AGQ_ERR_PACK_INCOMPLETE', { pack: known.name, dir, missing });
  const revision = known.pin?.revision ?? options.revision ?? 'main';
  const files = [];
  for (const path of packFilesOf(known)) {
    const full = join(dir, path);
    const sha256 = await sha256OfFile(full);
    if (known.pin !== undefined && known.pin.sha256[path] !== sha256) {
      throw agiqaError('AGQ_ERR_PACK_FILE_CORRUPT', { pack: known.name, file: path, expected: known.pin.sha256[path] ?? '(not in the pin)', actual: sha256 });
    }
    files.push({
      path,
      sha256,
      bytes: (await stat(full)).size,
      license: known.license,
      source: `https://huggingface.co/${known.repo}/blob/${revision}/${path}`,
    });
  }
  const manifest = packManifestSchema.parse({
    schemaVersion: 1,
    name: known.name,
    version: `1.0.0+${filesDigest(files)}`,
    description: `${known.description}. Zero-shot rounds (no trained predictor).`,
    license: known.license,
    aspects: [...ASPECTS],
    files,
    input: { kind: 'clip', ...known.input, promptCacheSize: PROMPT_CACHE_SIZE, rounds: known.rounds },
    models: { vision: { file: known.visionFile }, text: { file: known.textFile } },
    predictor: null,
    training: { method: 'zero-shot anchor texts (CLIP-IQA / Q-Align idea); nothing trained', repository: known.repo, revision, pinned: known.pin !== undefined, licenseUrl: known.licenseUrl },
    metrics: {},
  });
  await writeFile(join(dir, 'pack.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

export interface VerifyResult {
  name: string;
  dir: string;
  /** `verified`: pack.json was there and every hash matched; `written`: pack.json was created from the files. */
  status: 'verified' | 'written';
  files: number;
}

/**
 * Checks an installed pack: with a pack.json, validates it and every file's sha256; without one (a
 * folder copied in by hand), checks a known pack's files are all there and writes pack.json with
 * their hashes. Throws AGQ_ERR_PACK_NOT_FOUND, _INVALID, _FILE_MISSING, _FILE_CORRUPT, _INCOMPLETE,
 * _UNKNOWN (no pack.json and not a known pack).
 */
export async function verifyPack(name: string, options: { home?: string | undefined; catalogue?: readonly KnownPack[] } = {}): Promise<VerifyResult> {
  const dir = installedPackDir(name, options.home);
  if (!(await exists(dir))) throw agiqaError('AGQ_ERR_PACK_NOT_FOUND', { pack: name, searched: [dir] });
  let status: VerifyResult['status'] = 'verified';
  if (!(await exists(join(dir, 'pack.json')))) {
    const catalogue = options.catalogue ?? KNOWN_PACKS;
    const known = catalogue.find((p) => p.name === name);
    if (known === undefined) throw agiqaError('AGQ_ERR_PACK_UNKNOWN', { pack: name, known: catalogue.map((p) => p.name) });
    await writeClipPackManifest(dir, known);
    status = 'written';
  }
  const pack = await loadPack(name, { packDir: dir });
  return { name, dir, status, files: pack.manifest.files.length };
}

/**
 * Deletes an installed pack's folder. Refuses the packs embedded in agiqa (AGQ_ERR_USAGE) and
 * throws AGQ_ERR_PACK_NOT_FOUND when nothing is installed under that name.
 */
export async function removePack(name: string, options: { home?: string | undefined } = {}): Promise<string> {
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(name)) throw agiqaError('AGQ_ERR_USAGE', { problem: `"${name}" is not a pack name (lowercase letters, digits, ".", "_" or "-")` });
  const dir = installedPackDir(name, options.home);
  if (!(await exists(dir))) {
    if (await exists(join(EMBEDDED_PACKS_DIR, name))) throw agiqaError('AGQ_ERR_USAGE', { problem: `"${name}" is embedded in agiqa and cannot be removed` });
    throw agiqaError('AGQ_ERR_PACK_NOT_FOUND', { pack: name, searched: [dir] });
  }
  await rm(dir, { recursive: true, force: true });
  return dir;
}

/** The installed pack.json's version and size, or null when the folder has none readable. */
export async function installedSummary(name: string, home?: string): Promise<{ version: string; bytes: number } | null> {
  try {
    const json = JSON.parse(await readFile(join(installedPackDir(name, home), 'pack.json'), 'utf8')) as PackManifest;
    return { version: json.version, bytes: json.files.reduce((s, f) => s + f.bytes, 0) };
  } catch {
    return null;
  }
}
