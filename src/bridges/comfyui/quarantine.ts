// Quarantine (opt-in): moves a rejected output out of the user's way into `agiqa-rejected/` inside
// ComfyUI's output folder, keeping its subfolder, and appends each move to `agiqa-rejected/moves.jsonl`.
// Never deletes, never overwrites, never touches a path that resolves outside the output folder.
import { appendFile, mkdir, realpath, rename, stat } from 'node:fs/promises';
import { basename, dirname, extname, join, resolve, sep } from 'node:path';
import { agiqaError } from '../../errors/index.js';

export const QUARANTINE_FOLDER = 'agiqa-rejected';
export const MOVES_LOG = 'moves.jsonl';

export interface QuarantineMove {
  from: string;
  to: string;
}

function inside(folder: string, path: string): boolean {
  return path.startsWith(folder.endsWith(sep) ? folder : folder + sep);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/**
 * Moves `outputDir/subfolder/filename` to `outputDir/agiqa-rejected/subfolder/filename` (a free name if
 * taken) and logs the move with `details`. Returns null when the file is not there (already moved, or
 * ComfyUI runs on another machine). Throws AGQ_ERR_COMFYUI_QUARANTINE_OUTSIDE for a path that escapes.
 */
export async function quarantineFile(outputDir: string, image: { filename: string; subfolder: string }, details: Record<string, unknown>): Promise<QuarantineMove | null> {
  const root = await realpath(outputDir);
  const requested = resolve(root, image.subfolder, image.filename);
  if (!inside(root, requested)) throw agiqaError('AGQ_ERR_COMFYUI_QUARANTINE_OUTSIDE', { file: requested, outputDir: root });
  let from: string;
  try {
    from = await realpath(requested);
  } catch {
    return null;
  }
  // A symlink inside the folder may point anywhere: the resolved path decides.
  const quarantine = join(root, QUARANTINE_FOLDER);
  if (!inside(root, from) || inside(quarantine, from)) throw agiqaError('AGQ_ERR_COMFYUI_QUARANTINE_OUTSIDE', { file: from, outputDir: root });
  const targetDir = resolve(quarantine, image.subfolder);
  if (!inside(quarantine, targetDir) && targetDir !== quarantine) throw agiqaError('AGQ_ERR_COMFYUI_QUARANTINE_OUTSIDE', { file: targetDir, outputDir: root });
  await mkdir(targetDir, { recursive: true });
  const extension = extname(image.filename);
  const stem = basename(image.filename, extension);
  let to = join(targetDir, image.filename);
  for (let n = 1; await exists(to); n += 1) to = join(targetDir, `${stem}-${n}${extension}`);
  await rename(from, to);
  await mkdir(dirname(join(quarantine, MOVES_LOG)), { recursive: true });
  await appendFile(join(quarantine, MOVES_LOG), `${JSON.stringify({ at: new Date().toISOString(), from, to, ...details })}\n`);
  return { from, to };
}
