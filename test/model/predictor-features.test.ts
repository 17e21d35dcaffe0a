import { describe, expect, it } from 'vitest';
import { poolSpatialTokens, roundRows } from '../../src/model/predictor-features.js';

describe('poolSpatialTokens', () => {
  it('averages crops and adaptive-pool windows (7 → 3: rows 0–2, 2–4, 4–6)', () => {
    // 2 crops, 1 channel, 7×7: crop 0 holds y*7+x, crop 1 holds 100
    const spatial = new Float32Array(2 * 49);
    for (let i = 0; i < 49; i++) {
      spatial[i] = i;
      spatial[49 + i] = 100;
    }
    const tokens = poolSpatialTokens(spatial, 2, 1, 7, 3);
    expect(tokens).toHaveLength(9);
    // top-left window rows 0..2, cols 0..2 of crop 0: mean of y*7+x = 7·1 + 1 = 8; with crop 1 → (8 + 100)/2
    expect(tokens[0]).toBeCloseTo(54, 5);
    // centre window rows 2..4, cols 2..4: mean = 7·3 + 3 = 24 → (24 + 100)/2
    expect(tokens[4]).toBeCloseTo(62, 5);
    // bottom-right rows 4..6: 7·5 + 5 = 40 → 70
    expect(tokens[8]).toBeCloseTo(70, 5);
  });

  it('reads the nhwc layout to the same tokens', () => {
    // 1 crop, 2 channels: channel 0 = y*7+x, channel 1 = 1000 + y*7+x
    const nchw = new Float32Array(2 * 49);
    const nhwc = new Float32Array(2 * 49);
    for (let p = 0; p < 49; p++) {
      nchw[p] = p;
      nchw[49 + p] = 1000 + p;
      nhwc[p * 2] = p;
      nhwc[p * 2 + 1] = 1000 + p;
    }
    expect(Array.from(poolSpatialTokens(nhwc, 1, 2, 7, 3, 'nhwc'))).toEqual(Array.from(poolSpatialTokens(nchw, 1, 2, 7, 3)));
    expect(Array.from(poolSpatialTokens(nhwc, 1, 2, 7, 3, 'nhwc').subarray(0, 2))).toEqual([8, 1008]);
  });

  it('keeps channels apart (token-major layout) and grid 1 is the global mean', () => {
    const spatial = new Float32Array(2 * 49);
    spatial.fill(1, 0, 49);
    spatial.fill(3, 49, 98);
    expect(Array.from(poolSpatialTokens(spatial, 1, 2, 7, 1))).toEqual([1, 3]);
    expect(() => poolSpatialTokens(new Float32Array(10), 1, 2, 7, 3)).toThrow(/Expected a spatial map of 1×2×7×7 = 98 values but received 10/);
  });
});

describe('roundRows', () => {
  it('places each aspect\'s logits and evidence in ASPECTS order, zero rows and mask 0 for the others', () => {
    const { rounds, mask } = roundRows({ quality: { logits: [1, 2, 3, 4, 5], evidence: [9, 8] } }, 3);
    expect(Array.from(mask)).toEqual([1, 0, 0]);
    expect(Array.from(rounds.subarray(0, 8))).toEqual([1, 2, 3, 4, 5, 9, 8, 0]);
    expect(Array.from(rounds.subarray(8))).toEqual(new Array(16).fill(0));
  });

  it('refuses wrong logit counts and evidence wider than the predictor takes', () => {
    expect(() => roundRows({ quality: { logits: [1, 2], evidence: [] } }, 0)).toThrow(/Expected 5 level logits for quality but received 2/);
    expect(() => roundRows({ quality: { logits: [0, 0, 0, 0, 0], evidence: [1, 2, 3] } }, 2)).toThrow(/at most 2 evidence features for quality but received 3/);
  });
});
