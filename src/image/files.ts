// Finds image files on disk and reads one with its kind and size checked before a byte is read: a path
// is stat'ed before it is opened and opened non-blocking, so a FIFO or device never blocks a thread.
import { constants, type Stats } from 'node:fs';
import { lstat, open, readdir, realpath, stat } from 'node:fs/promises';
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

/** What a non-regular file is, in the user's words. */
export function fileKind(info: Stats): string {
  if (info.isDirectory()) return 'directory';
  if (info.isFIFO()) return 'FIFO (named pipe)';
  if (info.isSocket()) return 'socket';
  if (info.isCharacterDevice()) return 'character device';
  if (info.isBlockDevice()) return 'block device';
  if (info.isSymbolicLink()) return 'symbolic link';
  return 'special file';
}

function notAFile(name: string, info: Stats): AgiqaError {
  return agiqaError('AGQ_ERR_IMAGE_NOT_A_FILE', { file: name, kind: fileKind(info) });
}

export interface ReadFileOptions {
  /** Refuse a symbolic link as the last component instead of following it (for already-resolved paths). */
  noFollow?: boolean;
}

/**
 * Reads the regular file at `path` (called `name` in messages) in at most `maxBytes`: stat before open
 * (a FIFO, socket, device or directory is refused without being opened), open non-blocking, fstat the
 * handle (a swap between the two is caught), then read exactly the size checked. Throws AgiqaError:
 * AGQ_ERR_IMAGE_NOT_FOUND, _NOT_A_FILE, _UNREADABLE (no permission), _EMPTY, _TOO_LARGE.
 */
export async function readRegularFile(path: string, name: string, maxBytes: number, options: ReadFileOptions = {}): Promise<Buffer> {
  const limits = { ...DEFAULT_IMAGE_LIMITS, maxBytes };
  let handle;
  let size: number;
  try {
    const before = options.noFollow ? await lstat(path) : await stat(path);
    if (!before.isFile()) throw notAFile(name, before);
    checkImageSize(name, before.size, limits);
    // O_NONBLOCK: should the path have become a FIFO since the stat, open returns instead of waiting for a writer.
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK | (options.noFollow ? constants.O_NOFOLLOW : 0));
    const info = await handle.stat();
    if (!info.isFile()) throw notAFile(name, info);
    size = info.size;
  } catch (error) {
    await handle?.close();
    throw statError(name, error);
  }
  try {
    checkImageSize(name, size, limits);
    // Exactly the size checked: a file growing meanwhile cannot push the read past maxBytes.
    const bytes = Buffer.allocUnsafe(size);
    let filled = 0;
    while (filled < size) {
      const { bytesRead } = await handle.read(bytes, filled, size - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    if (filled === 0) throw agiqaError('AGQ_ERR_IMAGE_EMPTY', { file: name });
    return filled === size ? bytes : bytes.subarray(0, filled);
  } catch (error) {
    throw statError(name, error);
  } finally {
    await handle.close();
  }
}

/**
 * Reads the encoded bytes of the image at `path` (named as given in messages), checking kind and size
 * before reading, so a FIFO or an oversized file is refused without loading it. Throws what
 * readRegularFile throws.
 */
export async function readImageBytes(path: string, limits: ImageLimits = DEFAULT_IMAGE_LIMITS): Promise<Buffer> {
  return readRegularFile(path, path, limits.maxBytes);
}

/** Reads and decodes the image at `path`; throws what readImageBytes and decodeImage throw. */
export async function readImageFile(path: string, limits: ImageLimits = DEFAULT_IMAGE_LIMITS): Promise<DecodedImage> {
  return decodeImage(await readImageBytes(path, limits), path, limits);
}

function statError(path: string, error: unknown): AgiqaError {
  if (isAgiqaError(error)) return error;
  const code = errnoCode(error);
  if (code === 'ENOENT' || code === 'ENOTDIR') return agiqaError('AGQ_ERR_IMAGE_NOT_FOUND', { file: path }, { cause: error });
  // O_NOFOLLOW met a symlink: the resolved path was swapped for a link after it was checked.
  if (code === 'ELOOP') return agiqaError('AGQ_ERR_IMAGE_NOT_A_FILE', { file: path, kind: 'symbolic link' }, { cause: error });
  return agiqaError(
    'AGQ_ERR_IMAGE_UNREADABLE',
    { file: path, detail: error instanceof Error ? error.message : String(error) },
    { cause: error },
  );
}

/**
 * Expands `paths` into image files: files are kept as given, directories are walked recursively
 * (entries sorted by name, image extensions only, case-insensitive; a symlinked directory is followed
 * once, so link loops end; FIFOs, sockets and devices are never opened, and one with an image extension
 * is a problem). Problems (missing path, directory without images, unreadable entry, not a regular file)
 * are collected, not thrown, so one bad argument does not hide the others. Never throws.
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
    let special: Stats | null = null;
    if (entry.isSymbolicLink()) {
      try {
        const target = await stat(path);
        isDirectory = target.isDirectory();
        isFile = target.isFile();
        if (!isDirectory && !isFile) special = target;
      } catch {
        continue; // a dangling link is not an image and not worth a problem
      }
    }
    if (isDirectory) await walk(path, visited, add, problems);
    else if (isFile && hasImageExtension(entry.name)) add(path);
    else if (!isFile && hasImageExtension(entry.name)) {
      // A FIFO, socket or device named like an image: reported from its stat, never opened.
      try {
        problems.push(notAFile(path, special ?? (await stat(path))));
      } catch {
        continue;
      }
    }
  }
}
