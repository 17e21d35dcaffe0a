// The image hash that keys dedupe: taken from the entrance when it hashed the bytes as they arrived.
import { createHash, webcrypto } from 'node:crypto';
import { rawPixelsSha256 } from '../image/index.js';
import type { PipelineImage } from './types.js';

/** Above this size an image is hashed on the thread pool; below, hashing inline (~0.7 ms/MB) is cheaper than the hop. */
const INLINE_HASH_BYTES = 4 * 1024 * 1024;

/** Hex sha256 of the image's bytes (raw pixels are hashed with their layout, so two layouts never collide). */
export async function imageSha256(image: PipelineImage): Promise<string> {
  if (image.sha256 !== undefined) return image.sha256;
  const bytes = image.image;
  if (image.pixels !== undefined) return rawPixelsSha256(image.pixels, createHash('sha256').update(bytes).digest('hex'));
  if (bytes.length <= INLINE_HASH_BYTES) return createHash('sha256').update(bytes).digest('hex');
  return Buffer.from(await webcrypto.subtle.digest('SHA-256', bytes)).toString('hex');
}
