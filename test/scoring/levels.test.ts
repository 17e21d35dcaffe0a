import { describe, expect, it } from 'vitest';
import { aspectScoreFromLogits, overallMos, softmax } from '../../src/scoring/levels.js';
import { levelOfMos } from '../../src/scoring/score-result.js';

describe('levels', () => {
  it('maps MOS to the papers\' level words at the integer boundaries', () => {
    expect([0, 0.99, 1, 1.99, 2, 3, 3.999, 4, 5].map(levelOfMos)).toEqual(['bad', 'bad', 'poor', 'poor', 'fair', 'good', 'good', 'excellent', 'excellent']);
    expect(levelOfMos(-1)).toBe('bad');
    expect(levelOfMos(7)).toBe('excellent');
  });

  it('softmax sums to one and is stable for large logits', () => {
    const p = softmax([1000, 1000, 0]);
    expect(p[0]).toBeCloseTo(0.5, 10);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
  });

  it('builds an aspect score with probabilities per level and a clamped MOS', () => {
    const score = aspectScoreFromLogits([0, 0, 0, 0, 10], 5.3);
    expect(score.mos).toBe(5);
    expect(score.level).toBe('excellent');
    expect(score.probabilities.excellent).toBeGreaterThan(0.99);
    expect(() => aspectScoreFromLogits([0, 1], 2)).toThrow(/Expected 5 level logits but received 2/);
  });

  it('averages only the judged aspects for the overall MOS', () => {
    const a = aspectScoreFromLogits([0, 0, 0, 0, 0], 2);
    const b = aspectScoreFromLogits([0, 0, 0, 0, 0], 4);
    expect(overallMos([a, b, { mos: null }])).toBe(3);
    expect(() => overallMos([{ mos: null }])).toThrow(/at least one judged aspect/);
  });
});
