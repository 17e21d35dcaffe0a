import { describe, expect, it } from 'vitest';
import { lumaPlanes } from '../../src/signals/planes.js';
import { sharpness } from '../../src/signals/sharpness.js';
import { tileLayout } from '../../src/signals/tiles.js';
import type { SignalImage } from '../../src/signals/types.js';
import { boxBlur, flat, scene } from './synthetic.js';

function native(image: SignalImage) {
  const { width: w, height: h } = image;
  const planes = lumaPlanes(image.rgb, w, h, new Float32Array(w * h), new Float32Array((w >> 1) * (h >> 1)));
  return sharpness(planes.luma, tileLayout(w, h, 64, 24));
}

describe('sharpness', () => {
  it('is zero on a flat image', () => {
    const s = native(flat(96, 80, 77));
    expect(s.laplacianVariance).toBe(0);
    expect(s.gradientEnergy).toBe(0);
    expect(s.equalPairs).toBe(1);
  });

  it('drops at the fine scale when the image is box-blurred', () => {
    const img = scene(160, 128, 2);
    const sharp = native(img);
    const blurred = native(boxBlur(img, 1));
    expect(sharp.laplacianVariance).toBeGreaterThan(50);
    expect(blurred.laplacianVariance).toBeLessThan(0.3 * sharp.laplacianVariance);
    expect(blurred.gradientEnergy).toBeLessThan(sharp.gradientEnergy);
  });

  it('measures the Laplacian of a known checkerboard exactly', () => {
    // 0/255 checkerboard: every interior Laplacian is ±4·255·... = ±1020 with zero mean.
    const w = 16;
    const rgb = new Uint8Array(w * w * 3);
    for (let y = 0; y < w; y++) for (let x = 0; x < w; x++) rgb.fill((x + y) % 2 ? 255 : 0, 3 * (y * w + x), 3 * (y * w + x) + 3);
    const s = native({ rgb, width: w, height: w });
    expect(s.laplacianVariance).toBeCloseTo(1020 * 1020, -2);
  });
});
