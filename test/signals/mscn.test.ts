import { describe, expect, it } from 'vitest';
import { fitGgd, lnGamma, shapeFromRho } from '../../src/signals/ggd.js';
import { mscn } from '../../src/signals/mscn.js';
import { tileLayout } from '../../src/signals/tiles.js';
import { gauss, rng } from './synthetic.js';

describe('ggd', () => {
  it('has a correct log-gamma', () => {
    expect(lnGamma(1)).toBeCloseTo(0, 10);
    expect(lnGamma(5)).toBeCloseTo(Math.log(24), 10);
    expect(lnGamma(0.5)).toBeCloseTo(0.5 * Math.log(Math.PI), 10);
  });

  it('inverts ρ for the Gaussian (2/π → α = 2) and the Laplacian (1/2 → α = 1)', () => {
    expect(shapeFromRho(2 / Math.PI)).toBeCloseTo(2, 2);
    expect(shapeFromRho(0.5)).toBeCloseTo(1, 2);
    expect(fitGgd(0, 0, 0)).toEqual({ shape: 2, variance: 0 });
  });
});

describe('mscn', () => {
  it('fits shape ≈ 2 on i.i.d. Gaussian noise, with symmetric pair products', () => {
    const rand = rng(11);
    const w = 256;
    const data = new Float32Array(w * w);
    for (let i = 0; i < data.length; i++) data[i] = 128 + 12 * gauss(rand);
    const m = mscn({ data, width: w, height: w }, tileLayout(w, w, 64, 8));
    expect(m.shape).toBeGreaterThan(1.7);
    expect(m.shape).toBeLessThan(2.3);
    expect(m.pairs).toHaveLength(4);
    for (const p of m.pairs) expect(Math.abs(p.mean)).toBeLessThan(0.3);
  });

  it('is finite and neutral on a flat plane', () => {
    const m = mscn({ data: new Float32Array(64 * 64).fill(9), width: 64, height: 64 }, tileLayout(64, 64, 64, 8));
    expect(m.variance).toBe(0);
    expect(Number.isFinite(m.shape)).toBe(true);
  });
});
