// Small previews for the dashboard: a bounded-size WebP of an image, and its embedded text entries
// (for the sampling parameters), read from the encoded bytes in one pass over the header.
import sharp from 'sharp';
import { agiqaError } from '../errors/index.js';
import { readEmbeddedMetadata, type ImageFormat } from './decode.js';
import { withoutTextChunks } from './png-text.js';

export interface ImagePreview {
  /** WebP, at most `size` pixels on its longer side, never larger than the source. */
  thumbnail: Buffer;
  /** Every embedded text entry (PNG chunks, EXIF), as readEmbeddedMetadata gives them. */
  text: Record<string, string>;
}

const FORMATS = new Set<string>(['png', 'jpeg', 'webp', 'gif', 'tiff']);

/** The one resize + encode every thumbnail goes through, whatever its source. */
function encodeThumbnail(image: sharp.Sharp, size: number): Promise<Buffer> {
  return image.resize(size, size, { fit: 'inside', withoutEnlargement: true }).webp({ quality: 70, effort: 2 }).toBuffer();
}

/**
 * The thumbnail of pixels already in memory: a decoded image's RGB (a scoring worker's, no second
 * decode) or a UI's raw frame. The caller has checked the layout against the pixel cap.
 */
export function thumbnailOfPixels(pixels: Uint8Array, layout: { width: number; height: number; channels: 1 | 3 | 4 }, size: number): Promise<Buffer> {
  return encodeThumbnail(sharp(pixels, { raw: layout }), size);
}

/**
 * Makes the preview of an encoded image. Throws AGQ_ERR_IMAGE_TOO_MANY_PIXELS (from the header, before
 * decoding) and AGQ_ERR_IMAGE_CORRUPT / _UNSUPPORTED; the sharp error is the `cause`.
 */
export async function makePreview(
  bytes: Uint8Array,
  options: { size: number; maxPixels: number; name?: string; raw?: { width: number; height: number; channels: 1 | 3 | 4 } | undefined },
): Promise<ImagePreview> {
  const name = options.name ?? 'image';
  if (options.raw !== undefined) {
    // Pixels a UI handed over without encoding them (ComfyUI's nodes): no header, no embedded text.
    const { width, height, channels } = options.raw;
    if (width * height > options.maxPixels) throw agiqaError('AGQ_ERR_IMAGE_TOO_MANY_PIXELS', { file: name, width, height, maxPixels: options.maxPixels });
    return { thumbnail: await thumbnailOfPixels(bytes, { width, height, channels }, options.size), text: {} };
  }
  // As in decodeImage: libvips never sees the text chunks, which are read within a budget below.
  const pixels = withoutTextChunks(bytes);
  let meta: sharp.Metadata;
  try {
    meta = await sharp(pixels, { limitInputPixels: false }).metadata();
  } catch (error) {
    throw agiqaError('AGQ_ERR_IMAGE_CORRUPT', { file: name, detail: error instanceof Error ? error.message : String(error) }, { cause: error });
  }
  const format = meta.format === 'heif' && meta.compression === 'av1' ? 'avif' : meta.format;
  if (format === undefined || (!FORMATS.has(format) && format !== 'avif')) throw agiqaError('AGQ_ERR_IMAGE_UNSUPPORTED', { file: name, detail: `${String(meta.format)} images are not accepted` });
  const width = meta.width ?? 0;
  const height = meta.pageHeight ?? meta.height ?? 0;
  if (width * height > options.maxPixels) throw agiqaError('AGQ_ERR_IMAGE_TOO_MANY_PIXELS', { file: name, width, height, maxPixels: options.maxPixels });
  let thumbnail: Buffer;
  try {
    thumbnail = await encodeThumbnail(sharp(pixels, { failOn: 'error', limitInputPixels: options.maxPixels, autoOrient: true, pages: 1 }), options.size);
  } catch (error) {
    throw agiqaError('AGQ_ERR_IMAGE_CORRUPT', { file: name, detail: error instanceof Error ? error.message : String(error) }, { cause: error });
  }
  return { thumbnail, text: readEmbeddedMetadata(bytes, format as ImageFormat, meta.exif).text };
}
