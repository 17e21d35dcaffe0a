// Files written by the ComfyUI node pack's *Save image with score*: their `agiqa` text chunk names the
// generation the node scored (from the raw frame, before the file existed). The chunk is only a hint —
// any file can carry any text — so the pixels decide: the file's decoded 8-bit pixels, hashed as a raw
// frame of their layout, must be the frame the generation was stored under.
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { isPng, readPngText, withoutTextChunks } from './png-text.js';
import { rawPixelsSha256 } from './raw-pixels.js';
import type { ImageLimits } from './limits.js';

/** The text chunk Save image with score writes: JSON with the node's summary, `generation_id` among it. */
export const SAVED_SCORE_CHUNK = 'agiqa';

/** The generation a PNG says it was scored as (its `agiqa` chunk's `generation_id`), or null. Reads no pixels. */
export function savedGenerationId(bytes: Uint8Array): number | null {
  if (!isPng(bytes)) return null;
  // Only this chunk is decoded: every upload passes here on the main thread, and a ComfyUI file's
  // workflow and prompt chunks (often hundreds of KB) are the worker's to read.
  const chunk = readPngText(bytes, undefined, SAVED_SCORE_CHUNK).text[SAVED_SCORE_CHUNK];
  if (chunk === undefined) return null;
  try {
    const id = (JSON.parse(chunk) as { generation_id?: unknown } | null)?.generation_id;
    return typeof id === 'number' && Number.isSafeInteger(id) && id > 0 ? id : null;
  } catch {
    return null;
  }
}

/**
 * The dedupe hash a raw upload of this file's pixels would have had (rawPixelsSha256 of the decoded 8-bit
 * frame, 1/3/4 channels as stored), or null when the file cannot be read that way (not 8-bit, damaged,
 * over the pixel cap): then it simply is not the node's frame.
 */
export async function decodedFrameSha256(bytes: Uint8Array, limits: ImageLimits): Promise<string | null> {
  if (bytes.length > limits.maxBytes) return null;
  try {
    const input = sharp(withoutTextChunks(bytes), { failOn: 'error', limitInputPixels: limits.maxPixels, pages: 1 });
    // A grey frame (PIL's "L") is saved as a grey PNG: read it as one channel, not as sRGB.
    const channels = (await input.metadata()).channels;
    if (channels === 1) input.toColourspace('b-w');
    else if (channels !== 3 && channels !== 4) return null;
    const { data, info } = await input.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    if (info.channels !== channels) return null;
    return rawPixelsSha256({ width: info.width, height: info.height, channels: info.channels }, createHash('sha256').update(data).digest('hex'));
  } catch {
    return null;
  }
}
