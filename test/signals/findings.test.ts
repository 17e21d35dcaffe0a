import { describe, expect, it } from 'vitest';
import { computeSignals, FINDING_THRESHOLDS, signalFindings, type SignalMeasures } from '../../src/signals/index.js';
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
};
const codes = (m: Partial<SignalMeasures>) => signalFindings({ ...clean, ...m }).map((f) => `${f.code}:${f.severity}`);

describe('signalFindings', () => {
  it('finds nothing in a clean photo', () => {
    expect(signalFindings(clean)).toEqual([]);
  });

  it.each([
    [{ fineToCoarse: -1.6 }, 'blur:minor'],
    [{ fineToCoarse: -2.2 }, 'blur:major'],
    [{ noiseSigma: 4, noiseScaleRatio: 0.5 }, 'noise:minor'],
    [{ noiseSigma: 7.2, noiseScaleRatio: 0.5 }, 'noise:major'],
    [{ noiseSigma: 8, noiseScaleRatio: 1.3 }, 'none (texture, not noise)'],
    [{ blockiness: 1.3 }, 'jpeg-blocking:minor'],
    [{ blockiness: 1.8 }, 'jpeg-blocking:major'],
    [{ pixelationStrength: 40, pixelationCell: 8, blockiness: 40 }, 'pixelation:major'],
    [{ clippedHighlights: 0.12 }, 'clipped-highlights:major'],
    [{ clippedShadows: 0.09 }, 'clipped-shadows:minor'],
    [{ lumaRange: 70 }, 'low-contrast:major'],
    [{ toneOccupancy: 0.1 }, 'posterisation:major'],
    [{ overshoot: 1.4, sharpness: 7000 }, 'oversharpened:major'],
    [{ castStrength: 30, castDirection: 'blue' }, 'colour-cast:minor'],
    [{ brightness: 25 }, 'underexposed:major'],
  ] as [Partial<SignalMeasures>, string][])('%o → %s', (m, expected) => {
    expect(codes(m)).toEqual(expected.startsWith('none') ? [] : [expected]);
  });

  it('writes short sentences with the numbers', () => {
    const f = signalFindings({ ...clean, noiseSigma: 7.2, noiseScaleRatio: 0.5, clippedHighlights: 0.12, castStrength: 30, castDirection: 'blue' });
    expect(f.map((x) => x.text)).toEqual([
      'visible sensor-like noise (σ≈7)',
      'blown highlights (12% clipped)',
      'strong colour cast (toward blue)',
    ]);
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
    expect(major(boxBlur(img, 2))).toContain('blur');
    expect(major(addNoise(img, 14))).toContain('noise');
    expect(major(mapValues(img, (v) => Math.min(255, v * 2.2)))).toContain('clipped-highlights');
    expect(major(mapValues(img, (v) => Math.round(v / 48) * 48))).toContain('posterisation');
  });
});
