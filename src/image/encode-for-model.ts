// Re-encodes a decoded image for a model server that reads images itself (a judge pack): scaled so its
// longest side is at most the pack's size (never enlarged), as PNG or JPEG, from the RGB already
// decoded — the upload is never decoded twice.
import sharp from 'sharp';
import type { DecodedImage } from './decode.js';

export interface EncodedForModel {
  bytes: Buffer;
  mime: 'image/png' | 'image/jpeg';
  width: number;
  height: number;
}

export async function encodeForModel(image: Pick<DecodedImage, 'rgb' | 'width' | 'height'>, options: { maxSide: number; format: 'png' | 'jpeg' }): Promise<EncodedForModel> {
  const scale = Math.min(1, options.maxSide / Math.max(image.width, image.height));
  const width = Math.max(1, Math.round(image.width * scale));
  const height = Math.max(1, Math.round(image.height * scale));
  let pipeline = sharp(image.rgb, { raw: { width: image.width, height: image.height, channels: 3 } });
  if (scale < 1) pipeline = pipeline.resize(width, height, { kernel: 'lanczos3' });
  // Speed over size: the bytes cross a loopback socket, and the model server decodes them once.
  const bytes = options.format === 'png' ? await pipeline.png({ compressionLevel: 1 }).toBuffer() : await pipeline.jpeg({ quality: 92 }).toBuffer();
  return { bytes, mime: options.format === 'png' ? 'image/png' : 'image/jpeg', width, height };
}

/** The `data:` URL an OpenAI-compatible server reads from an `image_url` content part. */
export function dataUrlOf(encoded: Pick<EncodedForModel, 'bytes' | 'mime'>): string {
  return `data:${encoded.mime};base64,${encoded.bytes.toString('base64')}`;
}
