import { describe, expect, it } from 'vitest';
import { downsample2, lumaPlanes } from '../../src/signals/planes.js';
import { rng } from './synthetic.js';

// Reference: per-pixel luma, then a plain 2×2 average.
function reference(rgb: Uint8Array, w: number, h: number) {
  const luma = new Float32Array(w * h);
  for (let i = 0; i < w * h; i++) luma[i] = (77 * rgb[3 * i]! + 150 * rgb[3 * i + 1]! + 29 * rgb[3 * i + 2]! + 128) >> 8;
  const hw = Math.max(1, w >> 1);
  const hh = Math.max(1, h >> 1);
  const half = new Float32Array(hw * hh);
  for (let y = 0; y < hh; y++)
    for (let x = 0; x < hw; x++) {
      const xs = w > 1 ? [2 * x, 2 * x + 1] : [0, 0];
      const ys = h > 1 ? [2 * y, 2 * y + 1] : [0, 0];
      let s = 0;
      for (const yy of ys) for (const xx of xs) s += luma[yy * w + xx]!;
      half[y * hw + x] = s / 4;
    }
  return { luma, half, hw, hh };
}

describe('lumaPlanes', () => {
  it.each([
    [8, 6],
    [9, 7],
    [1, 5],
    [5, 1],
    [1, 1],
    [2, 3],
  ])('matches the per-pixel reference on a %d×%d image', (w, h) => {
    const rand = rng(w * 31 + h);
    const rgb = new Uint8Array(w * h * 3).map(() => Math.floor(rand() * 256));
    const ref = reference(rgb, w, h);
    const p = lumaPlanes(rgb, w, h, new Float32Array(w * h), new Float32Array(ref.hw * ref.hh));
    expect(Array.from(p.luma.data)).toEqual(Array.from(ref.luma));
    expect(p.half.width).toBe(ref.hw);
    expect(p.half.height).toBe(ref.hh);
    expect(Array.from(p.half.data)).toEqual(Array.from(ref.half));
  });

  it('weights green most (BT.601)', () => {
    const p = lumaPlanes(new Uint8Array([255, 0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0]), 4, 1, new Float32Array(4), new Float32Array(2));
    expect(Array.from(p.luma.data)).toEqual([77, 149, 29, 0]);
  });

  it('downsample2 averages 2×2 cells', () => {
    const d = downsample2({ data: new Float32Array([0, 4, 8, 8, 4, 0, 8, 8]), width: 4, height: 2 }, new Float32Array(2));
    expect(Array.from(d.data)).toEqual([2, 8]);
  });
});
