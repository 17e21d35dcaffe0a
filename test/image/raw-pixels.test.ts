import { describe, expect, it } from 'vitest';
import { checkRawLayout, MAX_METADATA_TEXT_BYTES, rawPixelsSha256, rawPixelsToImage } from '../../src/image/index.js';

const limits = { maxBytes: 1_000, maxPixels: 100 };

describe('checkRawLayout', () => {
  it('lists every layout problem at once', () => {
    expect(() => checkRawLayout('frame', { width: 0, height: 2.5, channels: 2 }, 10, limits)).toThrowError(
      expect.objectContaining({ code: 'AGQ_ERR_IMAGE_RAW_LAYOUT', message: expect.stringMatching(/width: .*received 0; height: .*received 2\.5; channels: expected 1, 3 or 4, received 2/) }),
    );
  });

  it('refuses too many pixels before the byte count, and a byte count that does not match', () => {
    expect(() => checkRawLayout('frame', { width: 20, height: 20, channels: 3 }, 1_200, limits)).toThrowError(expect.objectContaining({ code: 'AGQ_ERR_IMAGE_TOO_MANY_PIXELS' }));
    expect(() => checkRawLayout('frame', { width: 10, height: 10, channels: 4 }, 400, limits)).not.toThrow();
    expect(() => checkRawLayout('frame', { width: 10, height: 10, channels: 4 }, 399, limits)).toThrowError(
      expect.objectContaining({ code: 'AGQ_ERR_IMAGE_RAW_LAYOUT', message: expect.stringContaining('10×10×4 needs 400 bytes, received 399') }),
    );
    expect(() => checkRawLayout('frame', { width: 10, height: 10, channels: 3 }, 2_000, { maxBytes: 1_000, maxPixels: 1_000 })).toThrowError(expect.objectContaining({ code: 'AGQ_ERR_IMAGE_TOO_LARGE' }));
  });
});

describe('rawPixelsToImage', () => {
  it('uses RGB as it is, without a copy', () => {
    const data = Uint8Array.from([1, 2, 3, 4, 5, 6]);
    const image = rawPixelsToImage({ data, width: 2, height: 1, channels: 3 }, 'frame', 'h');
    expect(image.rgb).toBe(data);
    expect(image).toMatchObject({ width: 2, height: 1, format: 'raw', bytes: 6, sha256: 'h' });
  });

  it('replicates grey and flattens alpha onto white', () => {
    expect([...rawPixelsToImage({ data: Uint8Array.from([7, 200]), width: 2, height: 1, channels: 1 }, 'g', 'h').rgb]).toEqual([7, 7, 7, 200, 200, 200]);
    const rgba = Uint8Array.from([255, 0, 0, 255, 0, 0, 0, 0, 0, 0, 0, 128]);
    expect([...rawPixelsToImage({ data: rgba, width: 3, height: 1, channels: 4 }, 'a', 'h').rgb]).toEqual([255, 0, 0, 255, 255, 255, 127, 127, 127]);
  });

  it('recovers the prompt from the text sent beside the pixels', () => {
    const image = rawPixelsToImage({ data: new Uint8Array(3), width: 1, height: 1, channels: 3 }, 'f', 'h', { parameters: 'a lighthouse at dusk\nNegative prompt: blurry\nSteps: 20' });
    expect(image.metadata).toMatchObject({ source: 'a1111', prompt: 'a lighthouse at dusk', negativePrompt: 'blurry', problem: null });
  });

  it('text beside the pixels past the metadata budget: no prompt, the reason, nothing kept', () => {
    const text = { parameters: 'a lighthouse\nSteps: 20', workflow: 'x'.repeat(MAX_METADATA_TEXT_BYTES) };
    const image = rawPixelsToImage({ data: new Uint8Array(3), width: 1, height: 1, channels: 3 }, 'f', 'h', text);
    expect(image.metadata).toEqual({
      source: null,
      prompt: null,
      negativePrompt: null,
      problem: `the image's metadata text is ${MAX_METADATA_TEXT_BYTES + 22} bytes, more than the ${MAX_METADATA_TEXT_BYTES} bytes read`,
      text: {},
    });
  });
});

describe('rawPixelsSha256', () => {
  it('differs between layouts of the same bytes', () => {
    expect(rawPixelsSha256({ width: 2, height: 1, channels: 3 }, 'ab')).not.toBe(rawPixelsSha256({ width: 1, height: 2, channels: 3 }, 'ab'));
  });
});
