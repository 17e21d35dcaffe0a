// Finds image files on disk and reads one with its size checked before a byte is read.
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { agiqaError, isAgiqaError, type AgiqaError } from '../errors/index.js';
import { checkImageSize, decodeImage, DEFAULT_IMAGE_LIMITS, type DecodedImage, type ImageLimits } from './decode.js';

/** Extensions (lower case, no dot) that a directory walk picks up. */
export const IMAGE_EXTENSIONS: readonly string[] = ['png', 'jpg', 'jpeg', 'webp', 'gif', 'tif', 'tiff', 'avif'];

function hasImageExtension(name: string): boolean {
  const dot = name.lastIndexOf('.');
  return dot > 0 && IMAGE_EXTENSIONS.includes(name.slice(dot + 1).toLowerCase());
}

function errnoCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}

/**
 * Reads the encoded bytes of the image at `path` (named as given in messages), checking the size on
 * `stat` before reading, so an oversized file is refused without loading it. Throws AgiqaError:
 * AGQ_ERR_IMAGE_NOT_FOUND, _UNREADABLE (a directory, no permission), _EMPTY, _TOO_LARGE.
 */
export async function readImageBytes(path: string, limits: ImageLimits = DEFAULT_IMAGE_LIMITS): Promise<Buffer> {
  let size: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) {
      throw agiqaError('AGQ_ERR_IMAGE_UNREADABLE', {
        file: path,
        detail: info.isDirectory() ? 'it is a directory, not a file' : 'it is not a regular file',
      });
    }
    size = info.size;
  } catch (error) {
    throw statError(path, error);
  }
  checkImageSize(path, size, limits);
  try {
    return await readFile(path);
  } catch (error) {
    throw statError(path, error);
  }
}

/** Reads and decodes the image at `path`; throws what readImageBytes and decodeImage throw. */
export async function readImageFile(path: string, limits: ImageLimits = DEFAULT_IMAGE_LIMITS): Promise<DecodedImage> {
  return decodeImage(await readImageBytes(path, limits), path, limits);
}

function statError(path: string, error: unknown): AgiqaError {
  if (isAgiqaError(error)) return error;
  const code = errnoCode(error);
  if (code === 'ENOENT' || code === 'ENOTDIR') return agiqaError('AGQ_ERR_IMAGE_NOT_FOUND', { file: path }, { cause: error });
  return agiqaError(
    'AGQ_ERR_IMAGE_UNREADABLE',
    { file: path, detail: error instanceof Error ? error.message : String(error) },
    { cause: error },
  );
}

/**
 * Expands `paths` into image files: files are kept as given, directories are walked recursively
 * (entries sorted by name, image extensions only, case-insensitive; a symlinked directory is followed
 * once, so link loops end). Problems (missing path, directory without images, unreadable entry) are
 * collected, not thrown, so one bad argument does not hide the others. Never throws.
 */
export async function listImageFiles(paths: string[]): Promise<{ files: string[]; problems: AgiqaError[] }> {
  const files: string[] = [];
  const problems: AgiqaError[] = [];
  const seenFiles = new Set<string>();
  const add = (file: string): void => {
    if (!seenFiles.has(file)) {
      seenFiles.add(file);
      files.push(file);
    }
  };

  for (const path of paths) {
    let info;
    try {
      info = await stat(path);
    } catch (error) {
      problems.push(statError(path, error));
      continue;
    }
    if (!info.isDirectory()) {
      add(path);
      continue;
    }
    const before = files.length;
    await walk(path, new Set(), add, problems);
    if (files.length === before) problems.push(agiqaError('AGQ_ERR_NO_IMAGES', { dir: path }));
  }
  return { files, problems };
}

async function walk(dir: string, visited: Set<string>, add: (file: string) => void, problems: AgiqaError[]): Promise<void> {
  let real: string;
  let entries;
  try {
    real = await realpath(dir);
    if (visited.has(real)) return;
    visited.add(real);
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    problems.push(statError(dir, error));
    return;
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = join(dir, entry.name);
    let isDirectory = entry.isDirectory();
    let isFile = entry.isFile();
    if (entry.isSymbolicLink()) {
      try {
        const target = await stat(path);
        isDirectory = target.isDirectory();
        isFile = target.isFile();
      } catch {
        continue; // a dangling link is not an image and not worth a problem
      }
    }
    if (isDirectory) await walk(path, visited, add, problems);
    else if (isFile && hasImageExtension(entry.name)) add(path);
  }
}
