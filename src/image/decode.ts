// Decodes one encoded image into 8-bit sRGB RGB pixels with one sharp pipeline, after refusing oversized
// inputs from the header alone. Alpha is flattened onto WHITE (#ffffff): generation UIs preview
// transparency on a light background, and a fixed colour keeps scores reproducible.
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { agiqaError } from '../errors/index.js';
import { recoverPrompt, type RecoveredPrompt } from '../prompts/index.js';
import { readExifText } from './exif-text.js';
import { MAX_METADATA_TEXT_BYTES, readPngText, withoutTextChunks } from './png-text.js';

import { DEFAULT_IMAGE_LIMITS, type ImageLimits } from './limits.js';

export { DEFAULT_IMAGE_LIMITS, type ImageLimits };

/** The background alpha is flattened onto, as [r, g, b]. */
export const ALPHA_BACKGROUND: readonly [number, number, number] = [255, 255, 255];

/** `raw`: uncompressed pixels sent with their layout (see raw-pixels.ts), no file format at all. */
export type ImageFormat = 'png' | 'jpeg' | 'webp' | 'gif' | 'tiff' | 'avif' | 'raw';

/** Text metadata embedded by the generation UI, and the prompt recovered from it. */
export interface EmbeddedMetadata extends RecoveredPrompt {
  /** Every text entry found: PNG chunk keyword → text; from EXIF: parameters, prompt, workflow, ImageDescription. */
  text: Record<string, string>;
}

export interface DecodedImage {
  name: string;
  /** 8-bit sRGB, 3 channels interleaved, row-major, EXIF orientation applied, alpha flattened. */
  rgb: Uint8Array;
  /** The size of `rgb`: the whole image, or its working window when it is above WORKING_PIXELS. */
  width: number;
  height: number;
  /** The image's own size (EXIF orientation applied), whatever part of it was decoded. */
  source: { width: number; height: number };
  /** How `rgb` was taken from an image above WORKING_PIXELS; absent when it is the whole image. */
  reduced?: 'crop' | 'shrink' | undefined;
  format: ImageFormat;
  /** Hex sha256 of the encoded bytes. */
  sha256: string;
  /** Size of the encoded bytes. */
  bytes: number;
  metadata: EmbeddedMetadata;
}

/**
 * Above this many pixels an image is not decoded whole, so that the memory one image costs stays
 * bounded whatever its size (an 8192² image decoded whole is 200 MB of RGB before any signal runs).
 */
export const WORKING_PIXELS = 4096 * 4096;

export interface DecodeOptions {
  /** The hex sha256 of `bytes` when the caller already computed it (a server hashes for dedupe first). */
  sha256?: string | undefined;
  /**
   * What to decode of an image above `workingPixels`: 'crop' (default) a centred window at native
   * resolution — lite packs read native-resolution crops and signals, which downscaling would change;
   * 'shrink' the whole image downscaled — CLIP packs resize to 224 px anyway, and JPEG/WebP then
   * shrink on load. Images at or below the budget are decoded whole either way.
   */
  oversize?: 'crop' | 'shrink' | undefined;
  /** The pixel budget (default WORKING_PIXELS). */
  workingPixels?: number | undefined;
}

interface Region {
  left: number;
  top: number;
  width: number;
  height: number;
}

/**
 * The centred window, in the file's stored frame, whose oriented size has at most `budget` pixels and
 * the image's aspect. A centred rectangle stays centred under every EXIF orientation, so the window
 * is cut before rotating and the rotation only ever touches the window.
 */
export function workingWindow(width: number, height: number, orientation: number, budget: number): Region {
  const turned = orientation >= 5; // orientations 5–8 swap the sides
  const [ow, oh] = turned ? [height, width] : [width, height];
  const windowWidth = Math.max(1, Math.min(ow, Math.floor(Math.sqrt((budget * ow) / oh))));
  const windowHeight = Math.max(1, Math.min(oh, Math.floor(budget / windowWidth)));
  const [sw, sh] = turned ? [windowHeight, windowWidth] : [windowWidth, windowHeight];
  return { left: Math.floor((width - sw) / 2), top: Math.floor((height - sh) / 2), width: sw, height: sh };
}

/** The size, within `budget` pixels and with the image's aspect, an oversized image shrinks to. */
export function shrunkSize(width: number, height: number, budget: number): { width: number; height: number } {
  const scale = Math.sqrt(budget / (width * height));
  return { width: Math.max(1, Math.floor(width * scale)), height: Math.max(1, Math.floor(height * scale)) };
}

/**
 * Tunes sharp for a process whose worker threads each decode one image at a time: libvips' operation
 * cache only holds images that never come back (each request is a new image) and its per-image thread
 * pool competes with the other workers for the same cores.
 */
export function configureDecoderForWorkers(threadsPerImage: number): void {
  sharp.cache(false);
  sharp.concurrency(Math.max(1, threadsPerImage));
}

function formatOf(meta: sharp.Metadata): ImageFormat | null {
  switch (meta.format) {
    case 'png':
    case 'jpeg':
    case 'webp':
    case 'gif':
    case 'tiff':
      return meta.format;
    case 'heif':
      // sharp's prebuilt libvips decodes AV1 HEIF (AVIF) only; HEVC HEIC is refused here, not mid-decode.
      return meta.compression === 'av1' ? 'avif' : null;
    default:
      return null;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Refuses an empty or oversized encoded image from its byte count alone. Throws AGQ_ERR_IMAGE_EMPTY, _TOO_LARGE. */
export function checkImageSize(name: string, size: number, limits: ImageLimits = DEFAULT_IMAGE_LIMITS): void {
  if (size === 0) throw agiqaError('AGQ_ERR_IMAGE_EMPTY', { file: name });
  if (size > limits.maxBytes) {
    throw agiqaError('AGQ_ERR_IMAGE_TOO_LARGE', { file: name, bytes: size, maxBytes: limits.maxBytes });
  }
}

/**
 * Decodes `bytes` (an encoded image called `name` in messages) to RGB and reads its embedded prompt.
 * Animated GIF/WebP yield their first frame. Throws AgiqaError: AGQ_ERR_IMAGE_EMPTY, _TOO_LARGE,
 * _TOO_MANY_PIXELS (from the header, before decoding), _UNSUPPORTED (not PNG/JPEG/WebP/GIF/TIFF/AVIF),
 * _CORRUPT (truncated or damaged data); the sharp error is the `cause`.
 */
export async function decodeImage(
  bytes: Uint8Array,
  name: string,
  limits: ImageLimits = DEFAULT_IMAGE_LIMITS,
  options: DecodeOptions = {},
): Promise<DecodedImage> {
  checkImageSize(name, bytes.length, limits);
  // libvips never sees the text chunks: they are read below, within a budget (see withoutTextChunks).
  const pixels = withoutTextChunks(bytes);
  // The header is read on its own, without sharp's pixel limit, so that an oversized image is refused
  // by our check with its dimensions in the message; reading a header decodes no pixels.
  let meta: sharp.Metadata;
  try {
    meta = await sharp(pixels, { limitInputPixels: false }).metadata();
  } catch (error) {
    const detail = messageOf(error);
    if (/unsupported image format/i.test(detail)) {
      throw agiqaError(
        'AGQ_ERR_IMAGE_UNSUPPORTED',
        { file: name, detail: 'its content is not a recognised image format' },
        { cause: error },
      );
    }
    throw agiqaError('AGQ_ERR_IMAGE_CORRUPT', { file: name, detail }, { cause: error });
  }
  const format = formatOf(meta);
  if (format === null) {
    const kind = meta.format === 'heif' ? `heif/${meta.compression ?? 'unknown'}` : String(meta.format);
    throw agiqaError('AGQ_ERR_IMAGE_UNSUPPORTED', { file: name, detail: `${kind} images are not accepted` });
  }
  const headerWidth = meta.width ?? 0;
  const headerHeight = meta.pageHeight ?? meta.height ?? 0;
  if (headerWidth * headerHeight > limits.maxPixels) {
    throw agiqaError('AGQ_ERR_IMAGE_TOO_MANY_PIXELS', {
      file: name,
      width: headerWidth,
      height: headerHeight,
      maxPixels: limits.maxPixels,
    });
  }

  // The one decode. failOn 'error' (which includes 'truncated') makes a cut-off file an error instead of
  // grey rows; limitInputPixels is a second guard should the header read above and the decoder disagree.
  // An image above the working budget is read sequentially and only its window (or its shrunk whole)
  // is kept: libvips then streams the rows instead of holding the full image.
  const orientation = meta.orientation ?? 1;
  const turned = orientation >= 5;
  const source = turned ? { width: headerHeight, height: headerWidth } : { width: headerWidth, height: headerHeight };
  const budget = options.workingPixels ?? WORKING_PIXELS;
  const reduced = headerWidth * headerHeight > budget ? (options.oversize ?? 'crop') : undefined;
  const input = { failOn: 'error', limitInputPixels: limits.maxPixels, pages: 1 } as const;
  let pipeline: sharp.Sharp;
  if (reduced === 'crop') {
    // Cut in the stored frame, then orient: rotate() after extract() turns only the window.
    pipeline = sharp(pixels, { ...input, sequentialRead: true }).extract(workingWindow(headerWidth, headerHeight, orientation, budget)).rotate();
  } else if (reduced === 'shrink') {
    pipeline = sharp(pixels, { ...input, sequentialRead: true, autoOrient: true }).resize({ ...shrunkSize(source.width, source.height, budget), fit: 'fill' });
  } else {
    pipeline = sharp(pixels, { ...input, autoOrient: true });
  }
  const decoding = pipeline
    .flatten({ background: { r: ALPHA_BACKGROUND[0], g: ALPHA_BACKGROUND[1], b: ALPHA_BACKGROUND[2] } })
    .toColourspace('srgb')
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  // libvips decodes on the libuv thread pool: hash and read the text chunks meanwhile (neither throws).
  const sha256 = options.sha256 ?? createHash('sha256').update(bytes).digest('hex');
  const metadata = readEmbeddedMetadata(bytes, format, meta.exif);
  let decoded: { data: Buffer; info: sharp.OutputInfo };
  try {
    decoded = await decoding;
  } catch (error) {
    const detail = messageOf(error);
    if (/pixel limit/i.test(detail)) {
      throw agiqaError(
        'AGQ_ERR_IMAGE_TOO_MANY_PIXELS',
        { file: name, width: headerWidth, height: headerHeight, maxPixels: limits.maxPixels },
        { cause: error },
      );
    }
    throw agiqaError('AGQ_ERR_IMAGE_CORRUPT', { file: name, detail }, { cause: error });
  }
  const { data, info } = decoded;
  if (info.channels !== 3 || data.length !== info.width * info.height * 3) {
    throw agiqaError('AGQ_ERR_IMAGE_CORRUPT', {
      file: name,
      detail: `decoded to ${info.channels} channels of ${info.width}×${info.height}, expected RGB`,
    });
  }

  return {
    name,
    // A view on sharp's output buffer, not a copy.
    rgb: new Uint8Array(data.buffer, data.byteOffset, data.length),
    width: info.width,
    height: info.height,
    source,
    reduced,
    format,
    sha256,
    bytes: bytes.length,
    metadata,
  };
}

/**
 * Gathers the text entries of the image (PNG chunks win over EXIF) within MAX_METADATA_TEXT_BYTES and
 * recovers the prompt. Metadata over the budget leaves the prompt null with a `problem`; the image is
 * still scored. Never throws.
 */
export function readEmbeddedMetadata(
  bytes: Uint8Array,
  format: ImageFormat,
  exif: Buffer | undefined,
): EmbeddedMetadata {
  const text: Record<string, string> = {};
  let problem: string | null = null;
  let left = MAX_METADATA_TEXT_BYTES;
  if (exif && exif.length > 0) {
    if (exif.length > left) {
      problem = `the image's EXIF block is ${exif.length} bytes, more than the ${MAX_METADATA_TEXT_BYTES} bytes of metadata text read`;
    } else {
      for (const [key, value] of Object.entries(readExifText(exif))) {
        text[key] = value;
        left -= Buffer.byteLength(value);
      }
    }
  }
  if (format === 'png' && problem === null) {
    const png = readPngText(bytes, Math.max(0, left));
    Object.assign(text, png.text);
    problem = png.problem;
  }
  if (problem !== null) return { source: null, prompt: null, negativePrompt: null, problem, text };
  return { ...recoverPrompt(text), text };
}

/**
 * The prompt recovered from text entries that travelled beside an image rather than inside it (raw
 * pixel uploads), within the same MAX_METADATA_TEXT_BYTES budget: over it, no prompt and a `problem`.
 * Never throws.
 */
export function metadataFromText(text: Readonly<Record<string, string>>): EmbeddedMetadata {
  let bytes = 0;
  for (const value of Object.values(text)) bytes += Buffer.byteLength(value);
  if (bytes > MAX_METADATA_TEXT_BYTES) {
    const problem = `the image's metadata text is ${bytes} bytes, more than the ${MAX_METADATA_TEXT_BYTES} bytes read`;
    return { source: null, prompt: null, negativePrompt: null, problem, text: {} };
  }
  return { ...recoverPrompt(text), text: { ...text } };
}
