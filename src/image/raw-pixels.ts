// Raw 8-bit pixels as a UI holds them in memory (a ComfyUI tensor ×255, a PIL image's bytes): checked
// against their declared layout and the pixel cap, then turned into the same RGB a decoded file gives
// (alpha flattened onto white, grey replicated) without any PNG encode or decode on either side.
import { createHash } from 'node:crypto';
import { agiqaError } from '../errors/index.js';
import { ALPHA_BACKGROUND, checkImageSize, DEFAULT_IMAGE_LIMITS, metadataFromText, type DecodedImage, type ImageLimits } from './decode.js';

export interface RawPixels {
  /** width × height × channels bytes, row-major, channels interleaved. */
  data: Uint8Array;
  width: number;
  height: number;
  channels: number;
}

export const RAW_CHANNELS: readonly number[] = [1, 3, 4];

/**
 * The dedupe hash of raw pixels: their layout and the sha256 of their bytes (which an upload computes as
 * it streams in), so the same bytes under two layouts never share a stored score.
 */
export function rawPixelsSha256(layout: { width: number; height: number; channels: number }, bytesSha256: string): string {
  return createHash('sha256').update(`raw:${layout.width}x${layout.height}x${layout.channels}:${bytesSha256}`).digest('hex');
}

/**
 * Checks a raw layout before any byte is read: whole positive dimensions, 1/3/4 channels, the pixel cap,
 * and the byte count the layout implies. Throws AGQ_ERR_IMAGE_RAW_LAYOUT, _TOO_MANY_PIXELS, _TOO_LARGE.
 */
export function checkRawLayout(name: string, layout: { width: number; height: number; channels: number }, byteCount: number, limits: ImageLimits = DEFAULT_IMAGE_LIMITS): void {
  const { width, height, channels } = layout;
  const problems: string[] = [];
  if (!Number.isInteger(width) || width < 1) problems.push(`width: expected a positive whole number, received ${width}`);
  if (!Number.isInteger(height) || height < 1) problems.push(`height: expected a positive whole number, received ${height}`);
  if (!RAW_CHANNELS.includes(channels)) problems.push(`channels: expected 1, 3 or 4, received ${channels}`);
  if (problems.length > 0) throw agiqaError('AGQ_ERR_IMAGE_RAW_LAYOUT', { file: name, detail: problems.join('; ') });
  if (width * height > limits.maxPixels) throw agiqaError('AGQ_ERR_IMAGE_TOO_MANY_PIXELS', { file: name, width, height, maxPixels: limits.maxPixels });
  checkImageSize(name, byteCount, limits);
  const expected = width * height * channels;
  if (byteCount !== expected) {
    throw agiqaError('AGQ_ERR_IMAGE_RAW_LAYOUT', { file: name, detail: `${width}×${height}×${channels} needs ${expected} bytes, received ${byteCount}` });
  }
}

/**
 * Raw pixels as a decoded image. RGB input is used as it is (a view, no copy). `text` is the metadata
 * that travelled beside the pixels (e.g. ComfyUI's `prompt` graph); the prompt is recovered from it as
 * from a PNG's text chunks, within the same budget. Throws AGQ_ERR_IMAGE_RAW_LAYOUT, _TOO_MANY_PIXELS, _TOO_LARGE, _EMPTY.
 */
export function rawPixelsToImage(raw: RawPixels, name: string, sha256: string, text: Record<string, string> = {}, limits: ImageLimits = DEFAULT_IMAGE_LIMITS): DecodedImage {
  const { data, width, height, channels } = raw;
  checkRawLayout(name, { width, height, channels }, data.length, limits);
  return { name, rgb: toRgb(data, width * height, channels), width, height, source: { width, height }, format: 'raw', sha256, bytes: data.length, metadata: metadataFromText(text) };
}

function toRgb(data: Uint8Array, pixels: number, channels: number): Uint8Array {
  if (channels === 3) return data;
  const rgb = new Uint8Array(pixels * 3);
  if (channels === 1) {
    for (let i = 0, o = 0; i < pixels; i += 1, o += 3) rgb[o] = rgb[o + 1] = rgb[o + 2] = data[i]!;
    return rgb;
  }
  // RGBA: alpha over the same white background the file decoder flattens onto, rounded as libvips does.
  const [br, bg, bb] = ALPHA_BACKGROUND;
  for (let i = 0, o = 0; i < pixels * 4; i += 4, o += 3) {
    const alpha = data[i + 3]! / 255;
    rgb[o] = Math.round(data[i]! * alpha + br * (1 - alpha));
    rgb[o + 1] = Math.round(data[i + 1]! * alpha + bg * (1 - alpha));
    rgb[o + 2] = Math.round(data[i + 2]! * alpha + bb * (1 - alpha));
  }
  return rgb;
}
