// makePreview: a bounded WebP from encoded bytes or raw pixels, the embedded text, coded errors.
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { makePreview, thumbnailOfPixels } from '../../src/image/index.js';
import { textChunk, withChunks, forgedHeaderPng } from '../fixtures/image/png-chunks.js';

describe('makePreview', () => {
  it('shrinks to the size, keeps the aspect ratio and never enlarges', async () => {
    const png = await sharp({ create: { width: 400, height: 200, channels: 3, background: '#3060a0' } }).png().toBuffer();
    const preview = await makePreview(withChunks(png, [textChunk('parameters', 'a cat\nSteps: 5, Seed: 9')]), { size: 100, maxPixels: 1e6 });
    expect(await sharp(preview.thumbnail).metadata()).toMatchObject({ format: 'webp', width: 100, height: 50 });
    expect(preview.text.parameters).toContain('Seed: 9');
    const small = await sharp({ create: { width: 40, height: 30, channels: 3, background: '#000' } }).jpeg().toBuffer();
    expect(await sharp((await makePreview(small, { size: 100, maxPixels: 1e6 })).thumbnail).metadata()).toMatchObject({ width: 40, height: 30 });
  });

  it('takes raw pixels as a UI hands them over', async () => {
    const pixels = new Uint8Array(8 * 4 * 4).fill(200);
    const preview = await makePreview(pixels, { size: 4, maxPixels: 1e6, raw: { width: 8, height: 4, channels: 4 } });
    expect(await sharp(preview.thumbnail).metadata()).toMatchObject({ width: 4, height: 2 });
  });

  it('refuses a pixel bomb from its header and garbage with codes', async () => {
    await expect(makePreview(forgedHeaderPng(50_000, 50_000), { size: 64, maxPixels: 1e6 })).rejects.toMatchObject({ code: 'AGQ_ERR_IMAGE_TOO_MANY_PIXELS' });
    await expect(makePreview(Buffer.from('hello'), { size: 64, maxPixels: 1e6 })).rejects.toMatchObject({ code: 'AGQ_ERR_IMAGE_CORRUPT' });
  });

  it('makes the same thumbnail from decoded pixels as from the file', async () => {
    const width = 120;
    const height = 80;
    const rgb = new Uint8Array(width * height * 3);
    for (let i = 0; i < rgb.length; i += 1) rgb[i] = (Math.floor(i / 3) % width) * 2 + (i % 3) * 20;
    const png = await sharp(rgb, { raw: { width, height, channels: 3 } }).png().toBuffer();
    const fromPixels = await sharp(await thumbnailOfPixels(rgb, { width, height, channels: 3 }, 60)).raw().toBuffer({ resolveWithObject: true });
    const fromFile = await sharp((await makePreview(png, { size: 60, maxPixels: 1e6 })).thumbnail).raw().toBuffer({ resolveWithObject: true });
    expect(fromPixels.info).toMatchObject({ width: 60, height: 40 });
    expect(fromPixels.data).toEqual(fromFile.data);
  });
});
