import { describe, expect, it } from 'vitest';
import { computeSignals, FINDING_THRESHOLDS, gateFindings, signalFindings, type SignalMeasures } from '../../src/signals/index.js';
import { addNoise, boxBlur, mapValues, scene } from './synthetic.js';

// Measures of a clean, well-exposed photo, as computeSignals reports them; each test moves one.
const clean: SignalMeasures = {
  width: 512,
  height: 512,
  sharpness: 900,
  fineToCoarse: -0.5,
  noiseSigma: 0.8,
  noiseScaleRatio: 0.9,
  blockiness: 1.02,
  pixelationStrength: 1.1,
  pixelationCell: 0,
  clippedHighlights: 0.005,
  clippedShadows: 0.01,
  brightness: 120,
  contrastRms: 55,
  lumaRange: 210,
  colourfulness: 50,
  castRg: 2,
  castYb: 3,
  castStrength: 3.6,
  castDirection: 'orange',
  saturation: 0.4,
  toneOccupancy: 1,
  overshoot: 0.6,
  bandFraction: 0.05,
  bandStep: 2,
};
const codes = (m: Partial<SignalMeasures>) => signalFindings({ ...clean, ...m }).map((f) => `${f.code}:${f.severity}`);

describe('signalFindings', () => {
  it('finds nothing in a clean photo', () => {
    expect(signalFindings(clean)).toEqual([]);
  });

  it.each([
    [{ fineToCoarse: -2.8 }, 'none (mild softness: below the calibrated blur threshold)'],
    [{ fineToCoarse: -3.1 }, 'blur:minor'],
    [{ fineToCoarse: -3.6 }, 'blur:major'],
    [{ noiseSigma: 5, noiseScaleRatio: 0.5 }, 'noise:minor'],
    [{ noiseSigma: 8, noiseScaleRatio: 0.5 }, 'noise:major'],
    [{ noiseSigma: 8, noiseScaleRatio: 1.3 }, 'none (texture, not noise)'],
    [{ blockiness: 1.8 }, 'none (jpeg-blocking is dropped: it failed the calibration)'],
    [{ pixelationStrength: 40, pixelationCell: 8, blockiness: 40 }, 'pixelation:major'],
    [{ clippedHighlights: 0.05 }, 'none (5 % clipped: below the calibrated highlights threshold)'],
    [{ clippedHighlights: 0.12 }, 'clipped-highlights:minor'],
    [{ clippedHighlights: 0.45 }, 'clipped-highlights:major'],
    [{ clippedShadows: 0.5 }, 'clipped-shadows:minor'],
    [{ lumaRange: 70 }, 'low-contrast:major'],
    [{ toneOccupancy: 0.1 }, 'none (missing tones alone: below the calibrated posterisation threshold)'],
    [{ toneOccupancy: 0.04 }, 'posterisation:minor'],
    [{ toneOccupancy: 0.01 }, 'posterisation:major'],
    [{ overshoot: 1.4, sharpness: 7000 }, 'oversharpened:major'],
    [{ castStrength: 30, castDirection: 'blue' }, 'none (colour-cast is dropped: it failed the calibration)'],
    [{ saturation: 0.9 }, 'none (below the calibrated oversaturation threshold)'],
    [{ saturation: 0.999 }, 'oversaturated:minor'],
    [{ bandFraction: 0.4, bandStep: 4 }, 'none (most steps between flat runs are 1 level: a natural gradient)'],
    [{ bandFraction: 0.6, bandStep: 4 }, 'banding:minor'],
    [{ bandFraction: 0.9, bandStep: 8 }, 'banding:major'],
    [{ bandFraction: 0.9, bandStep: 8, blockiness: 1.3 }, 'none (an 8×8 grid: JPEG blocks step by several levels too, and jpeg-blocking is dropped)'],
    [{ bandFraction: 0.9, bandStep: 8, toneOccupancy: 0.01 }, 'posterisation:major'],
    [{ brightness: 15 }, 'underexposed:minor'],
    [{ brightness: 8 }, 'underexposed:major'],
  ] as [Partial<SignalMeasures>, string][])('%o → %s', (m, expected) => {
    expect(codes(m)).toEqual(expected.startsWith('none') ? [] : [expected]);
  });

  it('names the banding step size', () => {
    expect(signalFindings({ ...clean, bandFraction: 0.7, bandStep: 5.6 }).map((f) => f.text)).toEqual(['banding in smooth gradients (steps of ≈6 levels)']);
  });

  it('writes short sentences with the numbers', () => {
    const f = signalFindings({ ...clean, noiseSigma: 8.2, noiseScaleRatio: 0.5, clippedHighlights: 0.3 });
    expect(f.map((x) => x.text)).toEqual(['visible sensor-like noise (σ≈8)', 'blown highlights (30% clipped)']);
  });

  it('reports pixelation instead of JPEG blocking for an 8-px grid of flat cells', () => {
    expect(codes({ pixelationStrength: 1e4, pixelationCell: 8, blockiness: 1e4 })).toEqual(['pixelation:major']);
  });

  it('keeps the thresholds ordered', () => {
    const t = FINDING_THRESHOLDS;
    expect(t.noiseSigmaMajor).toBeGreaterThan(t.noiseSigmaMinor);
    expect(t.blockinessMajor).toBeGreaterThan(t.blockinessMinor);
    expect(t.blurFineToCoarseMajor).toBeLessThan(t.blurFineToCoarseMinor);
  });

  it('flags distortions of a synthetic scene end to end, and nothing major on the clean scene', () => {
    const img = scene(256, 256, 12);
    const major = (i: typeof img) => signalFindings(computeSignals(i).measures).filter((f) => f.severity === 'major').map((f) => f.code);
    expect(major(img)).toEqual([]);
    // Radius 4: the calibrated major-blur rule (sharpness < 5 with fineToCoarse ≤ −1) does not call the
    // radius-3 blur of this soft synthetic scene (sharpness 5.6) strong.
    expect(major(boxBlur(img, 4))).toContain('blur');
    expect(major(addNoise(img, 14))).toContain('noise');
    expect(major(mapValues(img, (v) => Math.min(255, v * 2.2)))).toContain('clipped-highlights');
    // Step 96 (4 tones per channel): the calibrated major-posterisation threshold (tone occupancy < 0.02) is
    // stricter than the 6 tones of step 48 (0.026) give.
    expect(major(mapValues(img, (v) => Math.min(255, Math.round(v / 96) * 96)))).toContain('posterisation');
  });

  it('gates findings by the quality score: above its gate a code is not reported, codes without a gate always are', () => {
    const found = [{ code: 'blur' }, { code: 'noise' }];
    const gates = { blur: 3 };
    expect(gateFindings(found, 3.5, gates).map((f) => f.code)).toEqual(['noise']);
    expect(gateFindings(found, 3, gates).map((f) => f.code)).toEqual(['blur', 'noise']);
    expect(gateFindings(found, 4.9, {}).map((f) => f.code)).toEqual(['blur', 'noise']);
  });
});
