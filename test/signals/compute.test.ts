import { describe, expect, it } from 'vitest';
import { isAgiqaError } from '../../src/errors/index.js';
import { computeSignals, SIGNAL_FEATURE_NAMES, SIGNALS_VERSION } from '../../src/signals/index.js';
import { addNoise, flat, scene } from './synthetic.js';

describe('computeSignals', () => {
  it('returns one finite feature per name, in a stable order', () => {
    const r = computeSignals(scene(200, 150, 1));
    expect(r.features).toHaveLength(SIGNAL_FEATURE_NAMES.length);
    expect(SIGNAL_FEATURE_NAMES.length).toBeGreaterThanOrEqual(40);
    expect(new Set(SIGNAL_FEATURE_NAMES).size).toBe(SIGNAL_FEATURE_NAMES.length);
    expect(SIGNAL_FEATURE_NAMES.slice(0, 3)).toEqual(['sharp_lapvar_s1', 'sharp_lapvar_s2', 'sharp_lapvar_s4']);
    expect(SIGNAL_FEATURE_NAMES.slice(-5)).toEqual(['mscn_s2_d2_var', 'band_frac', 'band_step', 'band_rate', 'flat_frac']);
    expect(SIGNALS_VERSION).toMatch(/^signals-\d+$/);
    expect(r.features.every(Number.isFinite)).toBe(true);
  });

  it('is deterministic', () => {
    const img = scene(300, 220, 9);
    expect(Array.from(computeSignals(img).features)).toEqual(Array.from(computeSignals(img).features));
  });

  it.each([
    [1, 1],
    [7, 3],
    [3, 7],
    [2, 2],
    [4000, 300],
    [300, 4000],
  ])('is finite on a %d×%d image', (w, h) => {
    // Large sizes get a cheap hash pattern instead of Gaussian noise to keep the test fast.
    const busy = w * h > 100_000 ? pattern(w, h) : addNoise(flat(w, h, 128), 20);
    for (const img of [flat(w, h, 200, 10, 30), busy]) {
      const r = computeSignals(img);
      expect(r.features.every(Number.isFinite)).toBe(true);
      for (const v of Object.values(r.measures)) if (typeof v === 'number') expect(Number.isFinite(v)).toBe(true);
    }
  });

  it('reports zero sharpness and zero noise on a flat image', () => {
    const m = computeSignals(flat(128, 96, 140)).measures;
    expect(m.sharpness).toBe(0);
    expect(m.noiseSigma).toBe(0);
    expect(m.colourfulness).toBe(0);
  });

  it('reads grey noise of σ = 10 as σ ≈ 10 luma levels', () => {
    const m = computeSignals(greyNoise(256, 10)).measures;
    expect(m.noiseSigma).toBeGreaterThan(9);
    expect(m.noiseSigma).toBeLessThan(11);
  });

  it('rejects inconsistent input with AGQ_ERR_INVALID_INPUT naming the field', () => {
    try {
      computeSignals({ rgb: new Uint8Array(10), width: 4, height: 4 });
      expect.unreachable();
    } catch (e) {
      expect(isAgiqaError(e)).toBe(true);
      expect((e as Error & { code: string }).code).toBe('AGQ_ERR_INVALID_INPUT');
      expect((e as Error).message).toContain('rgb: expected at least 48 bytes');
    }
    expect(() => computeSignals({ rgb: new Uint8Array(0), width: 0, height: 1.5 })).toThrow(/width.*height/s);
  });
});

// Same noise sample on all three channels, so luma noise equals the channel noise.
function greyNoise(size: number, sigma: number) {
  const noisy = addNoise(flat(size, size, 128), sigma);
  for (let i = 0; i < size * size; i++) {
    const v = noisy.rgb[3 * i]!;
    noisy.rgb[3 * i + 1] = v;
    noisy.rgb[3 * i + 2] = v;
  }
  return noisy;
}

function pattern(w: number, h: number) {
  const img = flat(w, h, 0);
  for (let i = 0; i < img.rgb.length; i++) img.rgb[i] = (Math.imul(i, 2654435761) >>> 24) & 255;
  return img;
}
