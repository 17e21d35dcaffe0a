// File-path inputs: a path is read only when, after resolving ".." and every symlink, it lies inside
// one of the configured roots. The resolved path is what gets read, so a later symlink swap of the
// original name cannot redirect the read.
import { realpathSync } from 'node:fs';
import { realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { agiqaError } from '../errors/index.js';
import { readRegularFile } from '../image/index.js';

/** Resolves each configured root once; roots that do not exist are dropped (nothing can be inside them). */
export function resolveRoots(roots: string[]): string[] {
  const resolved: string[] = [];
  for (const root of roots) {
    try {
      resolved.push(realpathSync(root));
    } catch {
      // A missing root allows nothing; the server logs the configured list at startup.
    }
  }
  return resolved;
}

function isInside(root: string, target: string): boolean {
  const rel = relative(root, target);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/**
 * The real path of `requested` if it lies inside one of `roots` (already real paths).
 * A relative path is taken relative to the first root. Throws AGQ_ERR_SERVER_PATH_OUTSIDE_ROOTS, or
 * AGQ_ERR_IMAGE_NOT_FOUND for a path inside the roots that does not exist.
 */
export async function resolveInsideRoots(requested: string, roots: string[]): Promise<string> {
  const refuse = () => agiqaError('AGQ_ERR_SERVER_PATH_OUTSIDE_ROOTS', { path: requested, roots });
  // ".." is refused outright, even when it would resolve inside a root: it is never needed and is
  // the usual first step of an escape.
  if (roots.length === 0 || requested.includes('\0') || requested.split(/[\\/]/).includes('..')) throw refuse();
  const absolute = isAbsolute(requested) ? resolve(requested) : resolve(roots[0]!, requested);
  if (!roots.some((root) => isInside(root, absolute))) throw refuse();
  let real: string;
  try {
    real = await realpath(absolute);
  } catch (cause) {
    throw agiqaError('AGQ_ERR_IMAGE_NOT_FOUND', { file: requested }, { cause });
  }
  if (!roots.some((root) => isInside(root, real))) throw refuse();
  return real;
}

/**
 * Reads a file resolved by resolveInsideRoots: stat before open, so a FIFO, socket or device in a root
 * is refused (AGQ_ERR_IMAGE_NOT_A_FILE, as the CLI does) without a blocking open tying up a libuv
 * thread; opened non-blocking and without following a link swapped in since; files above `maxBytes`
 * refused before reading. Throws what readRegularFile throws.
 */
export async function readRootedFile(real: string, name: string, maxBytes: number): Promise<Uint8Array> {
  return readRegularFile(real, name, maxBytes, { noFollow: true });
}
