import { describe, expect, it } from 'vitest';
import { calibrateSimilarity, cosine, expectedMos, logitsAroundMos, meanDirection } from '../../../src/scoring/rounds/level-logits.js';

describe('level logits', () => {
  it('puts the peak of logitsAroundMos on the level holding the MOS, and expectedMos near it', () => {
    for (const mos of [0.5, 1.7, 2.5, 3.2, 4.5]) {
      const logits = logitsAroundMos(mos, 0.8);
      expect(logits.indexOf(Math.max(...logits))).toBe(Math.min(4, Math.floor(mos)));
      expect(Math.abs(expectedMos(logits) - mos)).toBeLessThan(0.6);
    }
  });

  it('maps similarity linearly onto 0–5 and clamps outside the calibration range', () => {
    const c = { low: 0.15, high: 0.35 };
    expect(calibrateSimilarity(0.25, c)).toBeCloseTo(2.5, 6);
    expect(calibrateSimilarity(0.0, c)).toBe(0);
    expect(calibrateSimilarity(0.9, c)).toBe(5);
  });

  it('computes cosines of unit vectors and renormalised means', () => {
    const a = Float32Array.from([1, 0]);
    const b = Float32Array.from([0, 1]);
    expect(cosine(a, b)).toBe(0);
    const m = meanDirection([a, b]);
    expect(m[0]).toBeCloseTo(Math.SQRT1_2, 6);
    expect(() => cosine(a, Float32Array.from([1, 0, 0]))).toThrow(RangeError);
    expect(() => meanDirection([])).toThrow(RangeError);
  });
});
