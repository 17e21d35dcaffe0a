import { describe, expect, it } from 'vitest';
import { plcc } from '../../src/evaluation/correlation.js';
import { applyLogistic, fitLogistic, logistic5, logisticStartPoints } from '../../src/evaluation/logistic-fit.js';
import { aspectMetrics } from '../../src/evaluation/metrics.js';

describe('logistic fit', () => {
  it('evaluates f at hand-computed points', () => {
    // x = β3 puts the sigmoid at ½: f = β4·x + β5 = 0.5·2 + 1 = 2
    expect(logistic5(2, [3, 1, 2, 0.5, 1])).toBeCloseTo(2, 12);
    // x − β3 = 1, β2 = ln 3 → 1/(1+3) = 0.25 → f = 4·(0.5 − 0.25) + 0 + 0 = 1
    expect(logistic5(3, [4, Math.log(3), 2, 0, 0])).toBeCloseTo(1, 12);
    // no overflow far out on either side
    expect(logistic5(1e6, [2, 10, 0, 0, 0])).toBeCloseTo(1, 12);
    expect(logistic5(-1e6, [2, 10, 0, 0, 0])).toBeCloseTo(-1, 12);
  });

  it('names the two start points of the method doc', () => {
    const starts = logisticStartPoints([0, 2, 4], [1, 2, 6]);
    expect(starts.protocol).toEqual([10, 0.1, 3, 0.1, 0.1]);
    const sx = Math.sqrt(8 / 3);
    expect(starts['data-range'][0]).toBe(6);
    expect(starts['data-range'][1]).toBe(1);
    expect(starts['data-range'][2]).toBe(2);
    expect(starts['data-range'][3]).toBeCloseTo(sx / 4, 12);
  });

  it('recovers a noiseless logistic mapping exactly (PLCC after the fit = 1)', () => {
    const truth = [3, 2, 2.5, 0.2, 0.8];
    const x = Array.from({ length: 21 }, (_, i) => i * 0.25);
    const y = x.map((v) => logistic5(v, truth));
    const fit = fitLogistic(x, y);
    const mapped = applyLogistic(x, fit.parameters);
    for (let i = 0; i < x.length; i++) expect(mapped[i]).toBeCloseTo(y[i]!, 6);
    expect(plcc(mapped, y)).toBeCloseTo(1, 10);
    expect(plcc(x, y)).toBeLessThan(0.99);
  });

  it('reaches an SSE no worse than the generating parameters on noisy data', () => {
    const truth = [2, 3, 2.5, 0.3, 0.4];
    // a fixed "noise" sequence, so the test is deterministic
    const noise = [0.05, -0.08, 0.02, 0.1, -0.04, -0.06, 0.03, 0.07, -0.1, 0.01, 0.04, -0.02, 0.06, -0.05, 0.0, 0.08];
    const x = noise.map((_, i) => (i * 5) / 15);
    const y = x.map((v, i) => logistic5(v, truth) + noise[i]!);
    const fit = fitLogistic(x, y);
    const sseAtTruth = x.reduce((s, v, i) => s + (y[i]! - logistic5(v, truth)) ** 2, 0);
    expect(fit.sse).toBeLessThanOrEqual(sseAtTruth + 1e-12);
    expect(['protocol', 'data-range']).toContain(fit.start);
  });

  it('refuses fewer than five pairs', () => {
    expect(() => fitLogistic([1, 2, 3, 4], [1, 2, 3, 4])).toThrow(/at least 5 pairs for the logistic fit but received 4/);
  });

  it('reports raw and fitted metrics for an aspect', () => {
    const x = [0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4];
    const y = x.map((v) => logistic5(v, [3, 2, 2.2, 0.1, 0.9]));
    const m = aspectMetrics(x, y);
    expect(m.n).toBe(8);
    expect(m.srcc).toBeCloseTo(1, 12);
    expect(m.krcc).toBeCloseTo(1, 12);
    expect(m.plccLogistic!).toBeGreaterThan(m.plcc);
    expect(m.rmseLogistic!).toBeLessThan(m.rmse);
    const short = aspectMetrics([1, 2, 3], [1, 3, 2]);
    expect(short.plccLogistic).toBeNull();
    expect(short.logistic).toBeNull();
  });
});
