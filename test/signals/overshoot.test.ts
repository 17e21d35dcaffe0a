import { describe, expect, it } from 'vitest';
import { overshoot } from '../../src/signals/overshoot.js';
import { tileLayout } from '../../src/signals/tiles.js';
import type { Plane } from '../../src/signals/types.js';

// Vertical stripes of width 16 from 60 to 180, optionally with a halo of `halo` levels on the
// two pixels either side of every edge (what an unsharp mask leaves).
function stripes(halo: number, blurred = false): Plane {
  const w = 128;
  const data = new Float32Array(w * w);
  for (let y = 0; y < w; y++) {
    for (let x = 0; x < w; x++) {
      const p = x % 32;
      let v = p < 16 ? 60 : 180;
      if (blurred) v = p < 14 ? 60 : p < 18 ? 60 + ((p - 13) * 120) / 5 : p < 30 ? 180 : 180 - ((p - 29) * 120) / 3;
      if (p === 14 || p === 15) v -= halo;
      if (p === 16 || p === 17) v += halo;
      if (p === 30 || p === 31) v += halo;
      if (p === 0 || p === 1) v -= halo;
      data[y * w + x] = v;
    }
  }
  return { data, width: w, height: w };
}

describe('overshoot', () => {
  const tiles = tileLayout(128, 128, 64, 24);
  it('is zero on clean steps and grows with the halo', () => {
    expect(overshoot(stripes(0), tiles).overshoot).toBe(0);
    const mild = overshoot(stripes(15), tiles).overshoot;
    const strong = overshoot(stripes(40), tiles).overshoot;
    expect(mild).toBeCloseTo(30 / 120, 2);
    expect(strong).toBeGreaterThan(mild);
    expect(overshoot(stripes(0), tiles).edgeDensity).toBeGreaterThan(0);
  });
});
