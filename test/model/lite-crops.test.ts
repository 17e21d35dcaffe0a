import { describe, expect, it } from 'vitest';
import { cropPlan, cropTensor, fitShortSide } from '../../src/model/lite-crops.js';

function gradientImage(width: number, height: number) {
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      rgb[i] = x % 256;
      rgb[i + 1] = y % 256;
      rgb[i + 2] = (x + y) % 256;
    }
  }
  return { rgb, width, height };
}

describe('cropPlan', () => {
  it('puts one crop in the centre', () => {
    expect(cropPlan(1024, 768, 1, 224)).toEqual([{ left: 400, top: 272 }]);
  });

  it('spreads crops along the main diagonal and clamps them inside the image', () => {
    expect(cropPlan(600, 300, 2, 224)).toEqual([
      { left: 88, top: 0 },
      { left: 288, top: 76 },
    ]);
    for (const rect of cropPlan(230, 1000, 4, 224)) {
      expect(rect.left).toBeGreaterThanOrEqual(0);
      expect(rect.left + 224).toBeLessThanOrEqual(230);
      expect(rect.top + 224).toBeLessThanOrEqual(1000);
    }
  });
});

describe('fitShortSide', () => {
  it('returns an image that is large enough unchanged', () => {
    const image = gradientImage(300, 224);
    expect(fitShortSide(image, 224)).toBe(image);
  });

  it('enlarges a small image so its short side is the crop size, keeping the aspect ratio', () => {
    const out = fitShortSide(gradientImage(100, 50), 224);
    expect(out.height).toBe(224);
    expect(out.width).toBe(448);
    // Bilinear interpolation of a horizontal ramp stays a monotone ramp.
    const row = 100;
    for (let x = 1; x < out.width; x++) expect(out.rgb[(row * out.width + x) * 3]!).toBeGreaterThanOrEqual(out.rgb[(row * out.width + x - 1) * 3]!);
  });
});

describe('cropTensor', () => {
  it('copies native-resolution pixels, NHWC, values 0–255', () => {
    const image = gradientImage(1024, 768);
    const tensor = cropTensor(image, 1, 224);
    expect(tensor.dims).toEqual([1, 224, 224, 3]);
    // The first crop pixel is the image pixel at the crop origin (400, 272).
    expect(Array.from(tensor.data.slice(0, 3))).toEqual([400 % 256, 272 % 256, (400 + 272) % 256]);
    // The last pixel of the first crop row is (623, 272).
    const last = 223 * 3;
    expect(tensor.data[last]).toBe(623 % 256);
  });

  it('builds one slice per crop', () => {
    const tensor = cropTensor(gradientImage(800, 800), 2, 224);
    expect(tensor.dims).toEqual([2, 224, 224, 3]);
    const secondOrigin = cropPlan(800, 800, 2, 224)[1]!;
    expect(tensor.data[224 * 224 * 3]).toBe(secondOrigin.left % 256);
  });
});
