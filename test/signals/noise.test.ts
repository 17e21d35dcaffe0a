import { describe, expect, it } from 'vitest';
import { noiseLevel } from '../../src/signals/noise.js';
import { tileLayout } from '../../src/signals/tiles.js';
import type { Plane } from '../../src/signals/types.js';
import { gauss, rng } from './synthetic.js';

function plane(w: number, h: number, f: (x: number, y: number) => number): Plane {
  const data = new Float32Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[y * w + x] = f(x, y);
  return { data, width: w, height: h };
}

describe('noiseLevel', () => {
  it('is zero on a flat plane and on a linear ramp', () => {
    const t = tileLayout(128, 128, 64, 24);
    expect(noiseLevel(plane(128, 128, () => 100), t).sigmaFlat).toBe(0);
    expect(noiseLevel(plane(128, 128, (x, y) => 20 + x + 0.5 * y), t).sigmaFlat).toBeCloseTo(0, 6);
  });

  it.each([3, 10, 20])('recovers σ = %d of Gaussian noise within 12%%', (sigma) => {
    const rand = rng(sigma);
    const p = plane(256, 256, () => 128 + sigma * gauss(rand));
    const n = noiseLevel(p, tileLayout(256, 256, 64, 24));
    expect(n.sigmaFlat).toBeGreaterThan(sigma * 0.88);
    expect(n.sigmaFlat).toBeLessThan(sigma * 1.12);
    expect(n.sigmaMedian).toBeGreaterThan(sigma * 0.9);
  });

  it('ignores texture when flat areas exist', () => {
    const rand = rng(3);
    // Left half strong sinusoidal texture, right half flat with σ = 5 noise.
    const p = plane(256, 256, (x, y) => (x < 128 ? 128 + 60 * Math.sin(0.9 * x) * Math.sin(0.7 * y) : 128) + 5 * gauss(rand));
    const n = noiseLevel(p, tileLayout(256, 256, 64, 24));
    expect(n.sigmaFlat).toBeGreaterThan(4);
    expect(n.sigmaFlat).toBeLessThan(6);
    expect(n.sigmaMedian).toBeGreaterThan(n.sigmaFlat);
  });
});
