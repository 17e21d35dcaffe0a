// Pins issue 16's rule for findings: an image carrying a finding scores below its clean reference in
// ≥ 90 % of the validation pairs. The fixture holds the lite recipe's validation pairs (the measures of
// each distorted image, its score and its clean reference's score under the shipped quality.onnx);
// training/lite/calibrate-findings.ts writes it while choosing the thresholds on the training split.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DROPPED_FINDINGS, gateFindings, signalFindings, type SignalMeasures } from '../../src/signals/index.js';

interface Fixture {
  columns: string[];
  pairs: (string | number)[][];
}
const fixture = JSON.parse(readFileSync(new URL('../fixtures/findings-calibration/val-pairs.json', import.meta.url), 'utf8')) as Fixture;
const MEASURE_START = 5; // ref, distortion, level, score, clean, then the measures
const pairs = fixture.pairs.map((row) => ({
  distortion: row[1] as string,
  score: row[3] as number,
  clean: row[4] as number,
  measures: Object.fromEntries(fixture.columns.slice(MEASURE_START).map((name, i) => [name, row[MEASURE_START + i]])) as unknown as SignalMeasures,
}));

/** Per finding code: validation pairs carrying it, and the share scoring below the clean reference. */
function agreement(): Map<string, { n: number; agree: number }> {
  const out = new Map<string, { n: number; agree: number }>();
  for (const p of pairs) {
    // As the lite scorer reports them: thresholds, then the score gates.
    for (const code of new Set(gateFindings(signalFindings(p.measures), p.score).map((f) => f.code))) {
      const a = out.get(code) ?? { n: 0, agree: 0 };
      a.n++;
      if (p.score < p.clean) a.agree++;
      out.set(code, a);
    }
  }
  return out;
}

// With fewer firing pairs than this a share says little; such codes are listed in the recipe's report.
const MIN_PAIRS = 10;

describe('findings calibrated to the lite quality model (validation pairs)', () => {
  it('has the recipe’s validation pairs', () => {
    expect(pairs.length).toBeGreaterThan(1000);
    expect(new Set(pairs.map((p) => p.distortion)).size).toBeGreaterThanOrEqual(14);
  });

  it('every finding that fires marks a picture scored below its clean reference in ≥ 90 % of pairs', () => {
    const failing: string[] = [];
    for (const [code, a] of agreement()) {
      if (a.n >= MIN_PAIRS && a.agree / a.n < 0.9) failing.push(`${code}: ${a.agree}/${a.n}`);
    }
    expect(failing).toEqual([]);
  });

  it('never reports a dropped finding', () => {
    for (const code of DROPPED_FINDINGS) expect(agreement().has(code)).toBe(false);
  });
});
