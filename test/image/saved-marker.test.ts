// The marker of Save image with score's files: the generation its `agiqa` chunk names (read without
// decoding), and the raw-frame hash of a file's decoded pixels (what a raw upload of them was keyed by).
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { decodedFrameSha256, rawPixelsSha256, savedGenerationId } from '../../src/image/index.js';
import { pngOfPixels } from '../bridges/comfyui/test-images.js';

const LIMITS = { maxBytes: 1_000_000, maxPixels: 1_000_000 };
const pixels = Uint8Array.from({ length: 6 * 6 * 3 }, (_, i) => (i * 29) & 255);

describe('savedGenerationId', () => {
  it('reads a positive whole generation_id from the agiqa chunk, and nothing else', async () => {
    expect(savedGenerationId(await pngOfPixels(pixels, 6, { agiqa: JSON.stringify({ generation_id: 42, mos: 3 }) }))).toBe(42);
    for (const chunk of ['{"generation_id": "42"}', '{"generation_id": -1}', '{"generation_id": 1.5}', 'null', '{not json', '{}']) {
      expect(savedGenerationId(await pngOfPixels(pixels, 6, { agiqa: chunk }))).toBeNull();
    }
    expect(savedGenerationId(await pngOfPixels(pixels, 6, { prompt: '{}' }))).toBeNull();
    expect(savedGenerationId(Buffer.from('not a png'))).toBeNull();
  });
});

describe('decodedFrameSha256', () => {
  it('hashes the decoded 8-bit pixels as the raw frame of their layout', async () => {
    const expected = rawPixelsSha256({ width: 6, height: 6, channels: 3 }, createHash('sha256').update(pixels).digest('hex'));
    expect(await decodedFrameSha256(await pngOfPixels(pixels, 6, { agiqa: '{}' }), LIMITS)).toBe(expected);
    const grey = Uint8Array.from({ length: 36 }, (_, i) => i * 7);
    const greyPng = await sharp(grey, { raw: { width: 6, height: 6, channels: 1 } }).toColourspace('b-w').png().toBuffer();
    expect(await decodedFrameSha256(greyPng, LIMITS)).toBe(rawPixelsSha256({ width: 6, height: 6, channels: 1 }, createHash('sha256').update(grey).digest('hex')));
  });

  it('is null for what cannot be the node frame: damaged, over the caps', async () => {
    const png = await pngOfPixels(pixels, 6, {});
    expect(await decodedFrameSha256(png.subarray(0, png.length - 20), LIMITS)).toBeNull();
    expect(await decodedFrameSha256(png, { maxBytes: 10, maxPixels: 1_000_000 })).toBeNull();
    expect(await decodedFrameSha256(png, { maxBytes: 1_000_000, maxPixels: 35 })).toBeNull();
  });
});
