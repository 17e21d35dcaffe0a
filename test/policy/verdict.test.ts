import { describe, expect, it } from 'vitest';
import { judge, rank, regenerationBudget, verdictSchema } from '../../src/policy/index.js';
import { fakeResult } from '../fixtures/server/fake-scorer.js';

describe('judge', () => {
  it('accepts a result that meets every threshold', () => {
    const verdict = judge(fakeResult({ mos: 3.5 }), { thresholds: { overall: 3, quality: 3 } });
    expect(verdict.verdict).toBe('accept');
    expect(verdict.reasons[0]!.code).toBe('meets-thresholds');
    expect(verdictSchema.safeParse(verdict).success).toBe(true);
  });

  it('rejects with one reason per missed threshold', () => {
    const verdict = judge(fakeResult({ mos: 2 }), { thresholds: { overall: 2.5, quality: 2.5, authenticity: 1 } });
    expect(verdict.verdict).toBe('reject');
    expect(verdict.reasons.map((reason) => reason.aspect)).toEqual(['overall', 'quality']);
    expect(verdict.reasons[0]).toMatchObject({ code: 'below-threshold', mos: 2, threshold: 2.5 });
  });

  it('skips an aspect the pack did not judge instead of failing it', () => {
    const verdict = judge(fakeResult({ mos: 4, correspondence: null }), { thresholds: { correspondence: 4.5 } });
    expect(verdict.verdict).toBe('accept');
    expect(verdict.notJudged).toEqual(['correspondence']);
  });
});

describe('rank', () => {
  const batch = [1.0, 4.0, 3.0, 2.0].map((mos) => fakeResult({ mos }));

  it('orders best first and applies thresholds', () => {
    const outcome = rank(batch, { thresholds: { overall: 2.5 } });
    expect(outcome.order).toEqual([1, 2, 3, 0]);
    expect(outcome.passing).toEqual([1, 2]);
  });

  it('lets only the top k pass', () => {
    const outcome = rank(batch, { thresholds: { overall: 2.5 }, topK: 1 });
    expect(outcome.topK).toEqual([1]);
    expect(outcome.passing).toEqual([1]);
    expect(outcome.verdicts[2]!.reasons[0]!.code).toBe('outside-top-k');
  });

  it('keeps at least N even below threshold, best first', () => {
    const outcome = rank(batch, { thresholds: { overall: 4.5 }, keepAtLeast: 2 });
    expect(outcome.passing).toEqual([1, 2]);
    expect(outcome.verdicts[1]!.reasons.map((reason) => reason.code)).toEqual(['below-threshold', 'kept-at-least']);
    expect(outcome.verdicts[0]!.verdict).toBe('reject');
  });

  it('never keeps more than the batch holds', () => {
    expect(rank(batch.slice(0, 1), { thresholds: { overall: 5 }, keepAtLeast: 3 }).passing).toEqual([0]);
  });
});

describe('regenerationBudget', () => {
  it('keeps an accepted image', () => {
    expect(regenerationBudget({ verdict: 'accept' }, 0, 3)).toEqual({ action: 'keep', remaining: 3 });
  });
  it('regenerates a rejected one while budget is left', () => {
    expect(regenerationBudget({ verdict: 'reject' }, 2, 3)).toEqual({ action: 'regenerate', remaining: 0 });
  });
  it('stops when the budget is spent', () => {
    expect(regenerationBudget({ verdict: 'reject' }, 3, 3)).toEqual({ action: 'exhausted', remaining: 0 });
  });
});
