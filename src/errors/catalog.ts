// The one catalog of errors: every code with its HTTP status, message template and how to solve it.
// docs/errors.md is generated from it (`npm run docs:errors`); a test keeps both in step. The server's,
// store's and config's entries live in catalog-server.ts, spread in below in their place.

import { entry } from './catalog-entry.js';
import { serverErrors } from './catalog-server.js';

export type { ErrorEntry } from './catalog-entry.js';

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
  AGQ_ERR_IMAGE_RAW_LAYOUT: entry<{ file: string; detail: string }>(
    422,
    (p) => `${p.file}: the raw pixels do not match their declared layout (${p.detail})`,
    'Send width × height × channels bytes of 8-bit pixels, row by row, channels interleaved (1 grey, 3 RGB, 4 RGBA); or send an encoded image (PNG) instead.',
  ),
  AGQ_ERR_IMAGE_UNREADABLE: entry<{ file: string; detail: string }>(
    422,
    (p) => `${p.file}: the file cannot be read (${p.detail})`,
    'Check that agiqa has permission to read the file.',
  ),
  AGQ_ERR_IMAGE_NOT_A_FILE: entry<{ file: string; kind: string }>(
    422,
    (p) => `${p.file}: not a regular file (it is a ${p.kind}); only regular image files are read`,
    'Point agiqa at the image file itself; FIFOs, sockets, devices and directories are refused without being opened.',
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
  AGQ_ERR_PACK_NOT_PULLED: entry<{ pack: string; searched: string[] }>(
    404,
    (p) => `Model pack "${p.pack}" is a known pack but is not installed here (looked in ${p.searched.join(', ')}); run \`agiqa models pull ${p.pack}\``,
    'Run `agiqa models pull NAME` once to download it (see docs/packs.md), then score again.',
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
  AGQ_ERR_PACK_UNKNOWN: entry<{ pack: string; known: string[] }>(
    404,
    (p) => `"${p.pack}" is not a pack agiqa can pull (known: ${p.known.join(', ')})`,
    'Run `agiqa models list` for the known packs; another pack can be copied into $AGIQA_HOME/models/<name>/ with its own pack.json (docs/packs.md).',
  ),
  AGQ_ERR_PACK_INCOMPLETE: entry<{ pack: string; dir: string; missing: string[] }>(
    422,
    (p) => `Model pack "${p.pack}" in ${p.dir} lacks ${p.missing.join(', ')}`,
    'Copy the listed files into the pack folder, keeping their paths (docs/packs.md, "Manual download"), then run `agiqa models verify <name>` again.',
  ),
  AGQ_ERR_PACK_PULL_OFFLINE: entry<{ pack: string; host: string; detail: string }>(
    503,
    (p) => `Cannot reach ${p.host} to pull "${p.pack}" (${p.detail})`,
    'Connect to the network and retry (a pull resumes the files already fetched), or download the files by hand into $AGIQA_HOME/models/<name>/ and run `agiqa models verify <name>` (docs/packs.md, "Manual download").',
  ),
  AGQ_ERR_PACK_PULL_FAILED: entry<{ pack: string; file: string; detail: string }>(
    502,
    (p) => `Pulling "${p.pack}" failed on ${p.file}: ${p.detail}`,
    'Retry `agiqa models pull <name>` (files already fetched are kept); if the hub moved the file, download it by hand (docs/packs.md) and run `agiqa models verify <name>`.',
  ),
  AGQ_ERR_PACK_NOT_PINNED: entry<{ pack: string; pinsFile: string }>(
    409,
    (p) => `"${p.pack}" has no pinned hub revision and file hashes in ${p.pinsFile}, so agiqa cannot check that what it would download is what was tested`,
    'Pull with `--unpinned` to take the hub\'s current files (their commit and sha256 are recorded in pack.json), or ask a maintainer to pin the pack (`npx tsx tools/pin-packs.ts NAME`, see docs/packs.md).',
  ),
  AGQ_ERR_PACK_LICENSE_NOT_ACCEPTED: entry<{ pack: string; license: string; url: string }>(
    451,
    (p) => `"${p.pack}" is under a restrictive license (${p.license}, ${p.url}) that was not accepted`,
    'Read the license; if your use is allowed, pull again with `--accept-license`.',
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
  AGQ_ERR_SCORE_CANCELLED: entry<{ file: string; timeoutMs: number }>(
    504,
    (p) => `${p.file}: scoring ran longer than ${p.timeoutMs} ms and was cancelled (its worker was replaced); nothing was stored`,
    'The image or its metadata may be built to stall a parser: check where it came from. If it is an honest image on a slow machine, raise `queue.jobTimeoutMs`.',
  ),
  AGQ_ERR_SCORE_STALLED: entry<{ size: number; workers: number; stalled: number }>(
    503,
    (p) =>
      `No scoring worker can take an image: of ${p.size} workers ${p.size - p.workers} are being replaced and ${p.stalled} run a job past half its deadline (cancelled at the deadline)`,
    'Wait: stuck jobs are cancelled at `queue.jobTimeoutMs` and their workers replaced. If it repeats, find the images that time out (AGQ_ERR_SCORE_CANCELLED in the log).',
  ),
  AGQ_ERR_INFERENCE: entry<{ detail: string }>(
    500,
    (p) => `Inference failed: ${p.detail}`,
    'Retry; if it persists, check the logs and report the pack name and version.',
  ),
  // ── judge packs (a multimodal model server: Ollama, llama-server, vLLM, LM Studio) ──────────
  AGQ_ERR_JUDGE_UNREACHABLE: entry<{ url: string; detail: string }>(
    503,
    (p) => `The judge server at ${p.url} cannot be reached (${p.detail})`,
    'Start the model server (`ollama serve`, or `llama-server -m MODEL.gguf --mmproj MMPROJ.gguf --port 8080`) and check the URL in the pack (`agiqa models add NAME --judge-url URL ...` writes it).',
  ),
  AGQ_ERR_JUDGE_LOADING: entry<{ url: string; detail: string }>(
    503,
    (p) => `The judge server at ${p.url} is still loading its model (${p.detail})`,
    'Wait until the server has loaded the model (llama-server answers 503 "Loading model" until then) and retry; agiqa already retried with backoff.',
  ),
  AGQ_ERR_JUDGE_MODEL_NOT_FOUND: entry<{ url: string; model: string; available: string[] }>(
    404,
    (p) => `The judge server at ${p.url} does not serve the model "${p.model}"${p.available.length > 0 ? ` (it serves: ${p.available.join(', ')})` : ''}`,
    'Pull or load the model on the server (`ollama pull MODEL`), or give --judge-model one of the listed names.',
  ),
  AGQ_ERR_JUDGE_NO_VISION: entry<{ url: string; model: string; detail: string }>(
    422,
    (p) => `The judge model "${p.model}" at ${p.url} does not accept images (${p.detail})`,
    'Use a vision model (MiniCPM-V, Qwen2.5-VL, LLaVA, Gemma 3); llama-server needs `--mmproj` with the model\'s projector file.',
  ),
  AGQ_ERR_JUDGE_BAD_ANSWER: entry<{ url: string; detail: string }>(
    502,
    (p) => `The judge server at ${p.url} gave an answer agiqa cannot use (${p.detail})`,
    'Check that the URL points at an OpenAI-compatible server (its /v1/chat/completions); the server\'s own log says more.',
  ),
  AGQ_ERR_JUDGE_TIMEOUT: entry<{ url: string; timeoutMs: number }>(
    504,
    (p) => `The judge server at ${p.url} did not answer within ${p.timeoutMs} ms`,
    'A large model on CPU can take tens of seconds per answer: raise `input.server.timeoutMs` in the pack\'s pack.json, or use a smaller model.',
  ),
  AGQ_ERR_JUDGE_REFUSED: entry<{ url: string; status: number; detail: string }>(
    502,
    (p) => `The judge server at ${p.url} refused the request with HTTP ${p.status} (${p.detail})`,
    'Read the server\'s message above; a 401 means the API key is missing or wrong (--api-key-env names the variable that holds it).',
  ),

  // ── evaluation and training (agiqa eval / agiqa train) ──────────────────────────────────────
  AGQ_ERR_DATASET_NOT_FOUND: entry<{ dataset: string; detail: string }>(
    404,
    (p) => `Dataset ${p.dataset}: ${p.detail}`,
    'Point --dataset at the folder that holds the label file as published (AGIQA-3K data.csv, AIGCIQA2023.csv, AIGIQA-20K info_*.csv) or at a CSV with image,prompt,mos columns; give --format if the folder holds several.',
  ),
  AGQ_ERR_DATASET_INVALID: entry<{ file: string; issues: string[] }>(
    422,
    (p) => `Dataset label file ${p.file} is not in the expected format: ${p.issues.join('; ')}`,
    'Use the label file exactly as its authors publish it, or a CSV with columns image,prompt,mos (or mos_quality, mos_correspondence, mos_authenticity) on the 0–5 scale; see docs/evaluation.md.',
  ),
  AGQ_ERR_TRAINING_UNAVAILABLE: entry<{ python: string; detail: string }>(
    500,
    (p) => `Training needs Python with PyTorch and onnx, but ${p.python} cannot provide them: ${p.detail}`,
    'Install them (`pip install torch onnx numpy`, or `apt-get install python3-torch python3-onnx`) and point AGIQA_PYTHON at that interpreter.',
  ),
  AGQ_ERR_TRAINING_FAILED: entry<{ step: string; detail: string }>(
    500,
    (p) => `Training failed while ${p.step}: ${p.detail}`,
    'Read the message above; rerun with AGIQA_DEBUG=1 for the trainer\'s full output. A dataset with fewer than a few dozen images per split cannot be trained.',
  ),
  AGQ_ERR_PREDICTOR_INVALID: entry<{ pack: string; detail: string }>(
    500,
    (p) => `The predictor of pack "${p.pack}" does not fit the pack: ${p.detail}`,
    'Retrain the predictor for this pack with `agiqa train --pack <base>`, or remove the pack\'s `predictor` entry to use its own head.',
  ),
  ...serverErrors,
  // ── ComfyUI bridge ───────────────────────────────────────────────────────────────────────────
  AGQ_ERR_COMFYUI_URL_INVALID: entry<{ url: string; detail: string }>(
    400,
    (p) => `"${p.url}" is not a ComfyUI address: ${p.detail}`,
    'Give the address ComfyUI listens on as http://host:port (for example --comfyui http://127.0.0.1:8188), without a path.',
  ),
  AGQ_ERR_COMFYUI_UNREACHABLE: entry<{ url: string; path: string; detail: string }>(
    503,
    (p) => `ComfyUI at ${p.url} cannot be reached (${p.path}): ${p.detail}`,
    'Start ComfyUI (or check its --listen/--port); the bridge keeps retrying with backoff and catches up from /history once it answers.',
  ),
  AGQ_ERR_COMFYUI_HTTP: entry<{ url: string; method: string; path: string; status: number; body: string }>(
    502,
    (p) => `ComfyUI at ${p.url} answered ${p.method} ${p.path} with HTTP ${p.status}${p.body === '' ? '' : `: ${p.body}`}`,
    'Read the ComfyUI console for the cause; a 403 means ComfyUI refused the request\'s Origin (start it with --enable-cors-header or call it from the same host).',
  ),
  AGQ_ERR_COMFYUI_BAD_RESPONSE: entry<{ url: string; path: string; issues: string[] }>(
    502,
    (p) => `ComfyUI at ${p.url} sent a ${p.path} answer the bridge does not understand: ${p.issues.join('; ')}`,
    'Check that the address is a ComfyUI server (0.3.x or newer); report the ComfyUI version if it is.',
  ),
  AGQ_ERR_COMFYUI_IMAGE_MISSING: entry<{ url: string; promptId: string; node: string; filename: string; subfolder: string; type: string }>(
    404,
    (p) => `ComfyUI at ${p.url} has no ${p.type} image "${p.filename}"${p.subfolder === '' ? '' : ` in "${p.subfolder}"`} (prompt ${p.promptId}, node ${p.node}); it was moved or deleted before it could be scored`,
    'Nothing to do for this image; to score it anyway, score the file by path with `agiqa score`.',
  ),
  AGQ_ERR_COMFYUI_PROMPT_UNKNOWN: entry<{ promptId: string }>(
    404,
    (p) => `No scored outputs of ComfyUI prompt ${p.promptId}`,
    'Check the prompt_id (ComfyUI returns it from POST /prompt); a prompt is listed once the bridge has scored its outputs.',
  ),
  AGQ_ERR_COMFYUI_NO_SEED: entry<{ promptId: string }>(
    422,
    (p) => `Prompt ${p.promptId} cannot be regenerated: its graph has no KSampler.seed, KSamplerAdvanced.noise_seed or RandomNoise.noise_seed to change`,
    'Regeneration needs one of those seed inputs (a literal or a link to a primitive); other graphs are scored but never re-queued.',
  ),
  AGQ_ERR_COMFYUI_QUARANTINE_OUTSIDE: entry<{ file: string; outputDir: string }>(
    403,
    (p) => `Refused to move ${p.file}: once resolved it is not inside the ComfyUI output folder ${p.outputDir}`,
    'Quarantine only moves files inside the configured ComfyUI output folder; check `comfyui[].outputDir` points at ComfyUI\'s real output folder.',
  ),

  // ── plugins (agiqa plugins install) ──────────────────────────────────────────────────────────
  AGQ_ERR_PLUGIN_HOST_NOT_FOUND: entry<{ ui: string; dir: string }>(
    404,
    (p) => `${p.dir} does not exist or is not a folder, so it cannot be the ${p.ui} install`,
    'Give the folder of the UI itself: the ComfyUI folder that holds main.py and custom_nodes/, or the AUTOMATIC1111/Forge folder that holds webui.py and extensions/.',
  ),
  AGQ_ERR_PLUGIN_HOST_INVALID: entry<{ ui: string; dir: string; missing: string[]; hint: string }>(
    422,
    (p) => `${p.dir} does not look like the ${p.ui} folder: it has ${p.missing.join(' and ')}${p.hint === '' ? '' : `; ${p.hint}`}`,
    'Point --comfyui at the folder with main.py, comfy/ and custom_nodes/, and --a1111 at the folder with webui.py, modules/ and extensions/ (in portable packages, the inner ComfyUI/ or webui/ folder). Nothing was changed.',
  ),
  AGQ_ERR_PLUGIN_ALREADY_INSTALLED: entry<{ target: string; found: string }>(
    409,
    (p) => `${p.target} already exists and is not this version of the plugin (${p.found}); nothing was changed`,
    'Run again with --force to replace that folder (only that folder is removed), or remove it yourself.',
  ),
  AGQ_ERR_PLUGIN_SOURCE_MISSING: entry<{ dir: string }>(
    500,
    (p) => `The plugin files are missing from this agiqa install: ${p.dir} is not there`,
    'Reinstall m3-agiqa (`npm install m3-agiqa`, or `npm ci` in a checkout): its npm package ships the plugin-manifest/ folder.',
  ),
  AGQ_ERR_PLUGIN_INSTALL_FAILED: entry<{ target: string; detail: string }>(
    500,
    (p) => `Installing into ${p.target} failed: ${p.detail}`,
    'Check that you may write to the UI\'s folder (and that the disk is not full); whatever was partly written to that path was removed.',
  ),
} as const;

export type ErrorCode = keyof typeof errorCatalog;
export type ErrorParams<C extends ErrorCode> = Parameters<(typeof errorCatalog)[C]['message']>[0];
