// The one catalog of errors: every code with its HTTP status, message template and how to solve it.
// docs/errors.md is generated from this file (`npm run docs:errors`); a test keeps both in step.

export interface ErrorEntry<P> {
  /** HTTP status the server answers with. */
  status: number;
  /** What was wrong, in the user's words, built from the throw site's facts. */
  message: (params: P) => string;
  /** What the user can do about it; shown in docs/errors.md and in CLI hints. */
  howToSolve: string;
}

function entry<P>(status: number, message: (params: P) => string, howToSolve: string): ErrorEntry<P> {
  return { status, message, howToSolve };
}

export const errorCatalog = {
  // ── usage (CLI and API arguments) ────────────────────────────────────────────────────────────
  AGQ_ERR_USAGE: entry<{ problem: string }>(
    400,
    (p) => p.problem,
    'Run `agiqa --help` (or `agiqa <command> --help`) for the accepted arguments.',
  ),
  AGQ_ERR_INVALID_INPUT: entry<{ where: string; issues: string[] }>(
    400,
    (p) => `Invalid ${p.where}: ${p.issues.join('; ')}`,
    'Fix every listed field; the message names each field, what was expected and what was received.',
  ),

  // ── image input ──────────────────────────────────────────────────────────────────────────────
  AGQ_ERR_IMAGE_NOT_FOUND: entry<{ file: string }>(
    404,
    (p) => `${p.file}: no such file or directory`,
    'Check the path; relative paths are resolved from the current directory.',
  ),
  AGQ_ERR_IMAGE_EMPTY: entry<{ file: string }>(
    422,
    (p) => `${p.file}: the file is empty (0 bytes)`,
    'The image was not written completely; regenerate or re-copy it.',
  ),
  AGQ_ERR_IMAGE_TOO_LARGE: entry<{ file: string; bytes: number; maxBytes: number }>(
    413,
    (p) => `${p.file}: ${p.bytes} bytes is more than the limit of ${p.maxBytes} bytes`,
    'Downscale or recompress the image, or raise `limits.maxImageBytes` in agiqa.config.json.',
  ),
  AGQ_ERR_IMAGE_TOO_MANY_PIXELS: entry<{ file: string; width: number; height: number; maxPixels: number }>(
    413,
    (p) =>
      `${p.file}: ${p.width}×${p.height} = ${p.width * p.height} pixels is more than the limit of ${p.maxPixels} pixels (refused before decoding)`,
    'Downscale the image, or raise `limits.maxImagePixels` if you trust its source.',
  ),
  AGQ_ERR_IMAGE_UNSUPPORTED: entry<{ file: string; detail: string }>(
    415,
    (p) => `${p.file}: not an image this scorer can read (${p.detail})`,
    'Use PNG, JPEG, WebP, GIF, TIFF or AVIF; a file whose extension lies about its content is refused.',
  ),
  AGQ_ERR_IMAGE_CORRUPT: entry<{ file: string; detail: string }>(
    422,
    (p) => `${p.file}: the image data is damaged and cannot be decoded (${p.detail})`,
    'The file is truncated or corrupt; regenerate or re-copy it.',
  ),
  AGQ_ERR_IMAGE_UNREADABLE: entry<{ file: string; detail: string }>(
    422,
    (p) => `${p.file}: the file cannot be read (${p.detail})`,
    'Check that the path is a regular file and that agiqa has permission to read it.',
  ),
  AGQ_ERR_NO_IMAGES: entry<{ dir: string }>(
    404,
    (p) => `${p.dir}: the directory holds no image files (png, jpg, jpeg, webp, gif, tif, tiff, avif)`,
    'Point agiqa at a directory with images, or at image files directly.',
  ),

  // ── model packs and inference ────────────────────────────────────────────────────────────────
  AGQ_ERR_PACK_NOT_FOUND: entry<{ pack: string; searched: string[] }>(
    404,
    (p) => `Model pack "${p.pack}" was not found (looked in ${p.searched.join(', ')})`,
    'Run `agiqa models list` to see installed packs; the embedded default pack is `lite`.',
  ),
  AGQ_ERR_PACK_INVALID: entry<{ pack: string; issues: string[] }>(
    500,
    (p) => `Model pack "${p.pack}" has an invalid pack.json: ${p.issues.join('; ')}`,
    'Restore pack.json from the release, or fix the listed fields (see docs/packs.md).',
  ),
  AGQ_ERR_PACK_FILE_MISSING: entry<{ pack: string; file: string }>(
    500,
    (p) => `Model pack "${p.pack}" is missing its file ${p.file}`,
    'Reinstall the pack (for `lite`: `git checkout models/lite`; for pulled packs: `agiqa models pull <name>`).',
  ),
  AGQ_ERR_PACK_FILE_CORRUPT: entry<{ pack: string; file: string; expected: string; actual: string }>(
    500,
    (p) => `Model pack "${p.pack}": ${p.file} is corrupt (sha256 ${p.actual.slice(0, 12)}…, expected ${p.expected.slice(0, 12)}…)`,
    'Reinstall the pack (for `lite`: `git checkout models/lite`; for pulled packs: `agiqa models pull <name>`).',
  ),
  AGQ_ERR_MODEL_LOAD: entry<{ pack: string; file: string; detail: string }>(
    500,
    (p) => `Model pack "${p.pack}": onnxruntime could not load ${p.file} (${p.detail})`,
    'Reinstall the pack; if it persists, reinstall onnxruntime-node (`npm ci`).',
  ),
  AGQ_ERR_MODEL_INPUT: entry<{ model: string; detail: string }>(
    500,
    (p) => `Model ${p.model} was given inputs that do not fit its graph: ${p.detail}`,
    'This is a bug in the pack or the scorer: report it with the pack name and version.',
  ),
  AGQ_ERR_QUEUE_FULL: entry<{ queued: number; maxQueue: number }>(
    503,
    (p) => `The scorer is busy: ${p.queued} images are already waiting (limit ${p.maxQueue})`,
    'Retry after the time given in Retry-After, send fewer images at once, or raise `queue.maxQueue`.',
  ),
  AGQ_ERR_SHUTTING_DOWN: entry<Record<string, never>>(
    503,
    () => 'The scorer is shutting down and takes no new images',
    'Wait for the server to restart, then retry.',
  ),
  AGQ_ERR_WORKER_FAILED: entry<{ detail: string }>(
    500,
    (p) => `A scoring worker thread failed: ${p.detail}`,
    'Retry; the worker is replaced automatically. If it repeats, run with AGIQA_DEBUG=1 and report the log.',
  ),
  AGQ_ERR_INFERENCE: entry<{ detail: string }>(
    500,
    (p) => `Inference failed: ${p.detail}`,
    'Retry; if it persists, check the logs and report the pack name and version.',
  ),
} as const;

export type ErrorCode = keyof typeof errorCatalog;
export type ErrorParams<C extends ErrorCode> = Parameters<(typeof errorCatalog)[C]['message']>[0];
