// `agiqa models pull`: fetches a known pack's files at its pinned commit (models/pack-pins.json) from the Hugging Face hub with transformers.js's
// hub client into its file cache ($AGIQA_HOME/cache/hub, kept across attempts so an interrupted
// pull resumes with the files still missing), then moves them into $AGIQA_HOME/models/<name>/ and
// writes pack.json with their sha256. Offline, it fails within the connect timeout.
import { copyFile, mkdir, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { AutoProcessor, AutoTokenizer, CLIPTextModelWithProjection, CLIPVisionModelWithProjection, env } from '@huggingface/transformers';
import { agiqaError, isAgiqaError } from '../../errors/index.js';
import type { PackManifest } from '../pack-manifest.js';
import { agiqaHome, loadPack } from '../packs.js';
import { installedPackDir, writeClipPackManifest } from './clip-pack-store.js';
import { KNOWN_PACKS, PACK_PINS_FILE, packFilesOf, type KnownPack } from './known-packs.js';
import { towerFileOf } from './clip-encoder.js';
import { withTransformersEnv } from './transformers-env.js';

export const DEFAULT_HUB = 'https://huggingface.co/';
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

export interface PullProgress {
  file: string;
  loaded: number;
  total: number;
}

export interface PullOptions {
  home?: string | undefined;
  /** Hub base URL; default $HF_ENDPOINT, else https://huggingface.co/. */
  remoteHost?: string | undefined;
  /** Time allowed for each request to be answered (headers), in ms; the body may take longer. */
  connectTimeoutMs?: number | undefined;
  acceptLicense?: boolean | undefined;
  onProgress?: ((progress: PullProgress) => void) | undefined;
  catalogue?: readonly KnownPack[] | undefined;
  /** Pull a pack that has no pin from the hub's main branch (its commit is recorded in pack.json). */
  allowUnpinned?: boolean | undefined;
}

export interface PullResult {
  name: string;
  dir: string;
  status: 'pulled' | 'already-installed';
  manifest: PackManifest;
}

/** The revision a pull fetches: the pinned commit, else the main branch (only with allowUnpinned). */
export function revisionOf(pack: KnownPack): string {
  return pack.pin?.revision ?? 'main';
}

/** The hub URL a user can fetch `file` of `pack` from by hand (at the pinned commit when there is one). */
export function fileUrl(pack: KnownPack, file: string, remoteHost: string = hubHost()): string {
  return `${remoteHost}${pack.repo}/resolve/${revisionOf(pack)}/${file}`;
}

export function hubHost(remoteHost?: string): string {
  const host = remoteHost ?? process.env.HF_ENDPOINT ?? DEFAULT_HUB;
  return host.endsWith('/') ? host : `${host}/`;
}

/** Lines telling a user how to install `pack` without agiqa reaching the network. */
export function manualDownloadInstructions(pack: KnownPack, home?: string): string[] {
  const dir = installedPackDir(pack.name, home);
  return [
    `To install "${pack.name}" by hand (${pack.license}; ~${pack.approxMB} MB), download these files from https://huggingface.co/${pack.repo}`,
    `into ${dir}/, keeping their paths:`,
    ...packFilesOf(pack).map((file, _, all) => `  ${file.padEnd(Math.max(...all.map((f) => f.length)) + 2)}${fileUrl(pack, file, DEFAULT_HUB)}`),
    `then run: agiqa models verify ${pack.name}`,
  ];
}

class ConnectTimeout extends Error {}

/** fetch with a deadline for the answer's headers; the body then streams without one. */
function fetchWithConnectTimeout(timeoutMs: number): typeof fetch {
  return async (url, init = {}) => {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new ConnectTimeout(`no answer within ${timeoutMs} ms`)), timeoutMs);
    const signal = init.signal ? AbortSignal.any([init.signal, controller.signal]) : controller.signal;
    try {
      return await fetch(url, { ...init, signal });
    } finally {
      clearTimeout(timer);
    }
  };
}

function networkDetail(error: unknown): string {
  const cause = (error as { cause?: unknown }).cause;
  if (error instanceof ConnectTimeout || cause instanceof ConnectTimeout) return (error instanceof ConnectTimeout ? error : (cause as Error)).message;
  // Node's fetch wraps the socket error; with several addresses tried it is an AggregateError.
  const inner = cause as { code?: string; errors?: { code?: string }[] } | undefined;
  const code = inner?.code ?? inner?.errors?.[0]?.code;
  const message = error instanceof Error ? error.message : String(error);
  return code !== undefined ? `${code}: ${message}` : message;
}

/**
 * Pulls a known pack into $AGIQA_HOME/models/<name>/ at its pinned revision, checking every file's
 * sha256 against the pin. Throws AGQ_ERR_PACK_UNKNOWN, _NOT_PINNED (no pin and no allowUnpinned),
 * _LICENSE_NOT_ACCEPTED, _FILE_CORRUPT (a file differs from its pin), _PULL_OFFLINE (hub unreachable within the timeout), _PULL_FAILED (the hub
 * answered with an error), and the hash errors of the final verification.
 */
export async function pullPack(name: string, options: PullOptions = {}): Promise<PullResult> {
  const catalogue = options.catalogue ?? KNOWN_PACKS;
  const pack = catalogue.find((p) => p.name === name);
  if (pack === undefined) throw agiqaError('AGQ_ERR_PACK_UNKNOWN', { pack: name, known: catalogue.map((p) => p.name) });
  if (pack.restrictedLicense && options.acceptLicense !== true) {
    throw agiqaError('AGQ_ERR_PACK_LICENSE_NOT_ACCEPTED', { pack: name, license: pack.license, url: pack.licenseUrl });
  }
  if (pack.pin === undefined && options.allowUnpinned !== true) throw agiqaError('AGQ_ERR_PACK_NOT_PINNED', { pack: name, pinsFile: PACK_PINS_FILE });
  const revision = revisionOf(pack);
  const dir = installedPackDir(name, options.home);
  try {
    const installed = await loadPack(name, { packDir: dir });
    return { name, dir, status: 'already-installed', manifest: installed.manifest };
  } catch {
    // Not installed, or broken: pull it (again).
  }

  const host = hubHost(options.remoteHost);
  const timeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  const timedFetch = fetchWithConnectTimeout(timeoutMs);
  const probeUrl = fileUrl(pack, 'config.json', host);
  let probe: Response;
  try {
    probe = await timedFetch(probeUrl, { method: 'HEAD' });
  } catch (error) {
    throw agiqaError('AGQ_ERR_PACK_PULL_OFFLINE', { pack: name, host, detail: networkDetail(error) }, { cause: error });
  }
  if (!probe.ok) throw agiqaError('AGQ_ERR_PACK_PULL_FAILED', { pack: name, file: 'config.json', detail: `HTTP ${probe.status} from ${probeUrl}` });
  // The hub names the commit a branch resolved to; an unpinned pull records it in pack.json.
  const commit = probe.headers.get('x-repo-commit');
  const resolvedRevision = pack.pin?.revision ?? (commit !== null && /^[0-9a-f]{40}$/.test(commit) ? commit : 'main');

  const cacheDir = join(agiqaHome(options.home), 'cache', 'hub');
  await withTransformersEnv(async () => {
    env.allowRemoteModels = true;
    env.allowLocalModels = false;
    env.useFSCache = true;
    env.cacheDir = cacheDir;
    env.remoteHost = host;
    env.fetch = timedFetch;
    let current = 'config.json';
    const progress_callback = (event: { status: string; file?: string; loaded?: number; total?: number }): void => {
      if (event.file !== undefined) current = event.file;
      if (event.status === 'progress' && event.file !== undefined) options.onProgress?.({ file: event.file, loaded: event.loaded ?? 0, total: event.total ?? 0 });
    };
    const fetchOptions = { progress_callback, cache_dir: cacheDir, revision };
    try {
      await AutoTokenizer.from_pretrained(pack.repo, fetchOptions);
      await AutoProcessor.from_pretrained(pack.repo, fetchOptions);
      // Loading the towers is how transformers.js fetches them; the sessions are dropped at once.
      const vision = towerFileOf(name, 'vision', pack.visionFile, pack.input.dtype);
      const text = towerFileOf(name, 'text', pack.textFile, pack.input.dtype);
      const towerOptions = { ...fetchOptions, dtype: pack.input.dtype, device: 'cpu' as const, session_options: { intraOpNumThreads: 1 } };
      await (await CLIPVisionModelWithProjection.from_pretrained(pack.repo, { ...towerOptions, subfolder: vision.subfolder, model_file_name: vision.modelFileName })).dispose();
      await (await CLIPTextModelWithProjection.from_pretrained(pack.repo, { ...towerOptions, subfolder: text.subfolder, model_file_name: text.modelFileName })).dispose();
    } catch (error) {
      if (isAgiqaError(error)) throw error;
      const detail = networkDetail(error);
      if (/fetch failed|ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|no answer within/.test(detail)) {
        throw agiqaError('AGQ_ERR_PACK_PULL_OFFLINE', { pack: name, host, detail }, { cause: error });
      }
      throw agiqaError('AGQ_ERR_PACK_PULL_FAILED', { pack: name, file: current, detail }, { cause: error });
    } finally {
      env.allowRemoteModels = false;
      env.fetch = fetch;
    }
  });

  await mkdir(dir, { recursive: true });
  for (const file of packFilesOf(pack)) {
    // transformers.js keys its file cache by revision unless it is main.
    const from = revision === 'main' ? join(cacheDir, pack.repo, file) : join(cacheDir, pack.repo, revision, file);
    const to = join(dir, file);
    await mkdir(dirname(to), { recursive: true });
    try {
      await rename(from, to);
    } catch {
      // Another file system (a mounted AGIQA_HOME/models): copy instead.
      await copyFile(from, to);
    }
  }
  await rm(join(cacheDir, pack.repo), { recursive: true, force: true });
  let manifest: PackManifest;
  try {
    // With a pin, a file whose sha256 differs fails here (AGQ_ERR_PACK_FILE_CORRUPT) and nothing stays installed.
    manifest = await writeClipPackManifest(dir, pack, { revision: resolvedRevision });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  await loadPack(name, { packDir: dir });
  return { name, dir, status: 'pulled', manifest };
}
