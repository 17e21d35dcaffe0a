// Golden check of computeSignals: the shipped packs were trained on these exact signals-3 feature
// values, so a speed-up must not move them. Float summation order may change the last bits (≈ 1e-7);
// anything larger is a behaviour change: bump SIGNALS_VERSION, retrain, and regenerate the fixture
// with `npx tsx test/signals/make-golden.ts`.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { computeSignals, SIGNAL_FEATURE_NAMES, SIGNALS_VERSION } from '../../src/signals/index.js';
import { GOLDEN_PATH, goldenCases } from './golden-cases.js';

interface GoldenFile {
  signalsVersion: string;
  cases: { name: string; width: number; height: number; features: number[]; measures: Record<string, number | string> }[];
}

const golden = JSON.parse(readFileSync(GOLDEN_PATH, 'utf8')) as GoldenFile;
const TOLERANCE = 1e-6; // absolute, or relative for values above 1

function offBy(actual: number, expected: number): number {
  return Math.abs(actual - expected) / Math.max(1, Math.abs(expected));
}

describe('computeSignals golden (signals-3)', async () => {
  const cases = await goldenCases();

  it('covers the same cases as the fixture, for this SIGNALS_VERSION', () => {
    expect(golden.signalsVersion).toBe(SIGNALS_VERSION);
    expect(cases.map((c) => c.name)).toEqual(golden.cases.map((c) => c.name));
  });

  it.each(golden.cases.map((g, i) => [g.name, i] as const))('%s: features and measures as recorded', async (_, i) => {
    const expected = golden.cases[i]!;
    const image = await cases[i]!.image();
    expect([image.width, image.height]).toEqual([expected.width, expected.height]);
    const { features, measures } = computeSignals({ rgb: image.rgb, width: image.width, height: image.height });
    const off = Array.from(features, (v, k) => ({ name: SIGNAL_FEATURE_NAMES[k], off: offBy(v, expected.features[k]!) }));
    expect(off.filter((f) => !(f.off <= TOLERANCE))).toEqual([]);
    for (const [key, value] of Object.entries(expected.measures)) {
      const actual = (measures as unknown as Record<string, number | string>)[key];
      if (typeof value === 'string') expect(actual, key).toBe(value);
      else expect(offBy(actual as number, value), key).toBeLessThanOrEqual(TOLERANCE);
    }
    expect(Object.keys(measures).sort()).toEqual(Object.keys(expected.measures).sort());
  });
});
