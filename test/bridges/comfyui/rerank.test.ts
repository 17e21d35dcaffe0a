import { describe, expect, it } from 'vitest';
import { judgeBatch } from '../../../src/bridges/comfyui/rerank.js';
import { fakeResult } from '../../fixtures/server/fake-scorer.js';

describe('judgeBatch', () => {
  it('judges one image by the thresholds alone, with no rank', () => {
    const { verdicts, ranks } = judgeBatch([fakeResult({ mos: 2 })], { thresholds: { overall: 2.5 }, topK: 1 });
    expect(ranks).toEqual([null]);
    expect(verdicts[0]!.verdict).toBe('reject');
  });

  it('ranks a batch best first, applies top-k and keep-at-least', () => {
    const results = [2.8, 4.6, 1.2, 3.9].map((mos) => fakeResult({ mos }));
    const topTwo = judgeBatch(results, { thresholds: { overall: 2.5 }, topK: 2 });
    expect(topTwo.ranks).toEqual([3, 1, 4, 2]);
    expect(topTwo.verdicts.map((v) => v.verdict)).toEqual(['reject', 'accept', 'reject', 'accept']);
    expect(topTwo.verdicts[0]!.reasons[0]!.code).toBe('outside-top-k');
    const keep = judgeBatch(results.map((r) => ({ ...r, mos: 1 })), { thresholds: { overall: 2.5 }, keepAtLeast: 1 });
    expect(keep.verdicts.filter((v) => v.verdict === 'accept')).toHaveLength(1);
  });
});
