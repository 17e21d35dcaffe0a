import { describe, expect, it } from 'vitest';
import { roundRows } from '../../src/model/predictor-features.js';
import { CLIP_COLUMNS, CLIP_EVIDENCE_WIDTH, clipRoundEvidence, judgeColumns, judgeRoundEvidence } from '../../src/model/predictor-layout.js';

const PACK = { realCount: 2, maxPhrases: 8 };

describe('clip/1 round evidence', () => {
  it('gives every round a fixed width whatever the prompt, with the columns the layout names', () => {
    const quality = clipRoundEvidence({ aspect: 'quality', logits: [1, 2, 3, 4, 5], evidence: [0.1, 0.2, 0.3, 0.4, 0.5] }, PACK);
    expect(quality).toEqual({ logits: [1, 2, 3, 4, 5], evidence: [0.1, 0.2, 0.3, 0.4, 0.5] });
    const correspondence = clipRoundEvidence({ aspect: 'correspondence', logits: [0, 0, 0, 0, 0], evidence: [0.3, 0.2, 0.4, 0.6] }, PACK);
    expect(correspondence.evidence).toEqual([0.3, 0.2, expect.closeTo(0.4, 12), 3 / 8]);
    // no phrases: the prompt stands for them
    expect(clipRoundEvidence({ aspect: 'correspondence', logits: [0, 0, 0, 0, 0], evidence: [0.25] }, PACK).evidence).toEqual([0.25, 0.25, 0.25, 0]);
    // authenticity: [...real, ...artifact] split by the pack's real-anchor count
    const authenticity = clipRoundEvidence({ aspect: 'authenticity', logits: [0, 0, 0, 0, 0], evidence: [0.2, 0.4, 0.1, 0.3, 0.5] }, PACK);
    expect(Array.from(authenticity.evidence, (v) => Number(v.toFixed(12)))).toEqual([0.3, 0.4, 0.3, 0.5]);
    for (const aspect of ['quality', 'correspondence', 'authenticity'] as const) expect(CLIP_COLUMNS[aspect].length).toBeLessThanOrEqual(CLIP_EVIDENCE_WIDTH);
  });

  it('fills three round rows in aspect order with a mask of three', () => {
    const rows = {
      quality: clipRoundEvidence({ aspect: 'quality', logits: [1, 1, 1, 1, 1], evidence: [0.1, 0.2, 0.3, 0.4, 0.5] }, PACK),
      correspondence: clipRoundEvidence({ aspect: 'correspondence', logits: [2, 2, 2, 2, 2], evidence: [0.3] }, PACK),
      authenticity: clipRoundEvidence({ aspect: 'authenticity', logits: [3, 3, 3, 3, 3], evidence: [0.2, 0.4, 0.1] }, PACK),
    };
    const { rounds, mask } = roundRows(rows, CLIP_EVIDENCE_WIDTH);
    expect(Array.from(mask)).toEqual([1, 1, 1]);
    expect(rounds).toHaveLength(3 * 10);
    expect(Array.from(rounds.subarray(10, 20)).map((v) => Number(v.toFixed(6)))).toEqual([2, 2, 2, 2, 2, 0.3, 0.3, 0.3, 0, 0]);
    expect(Array.from(rounds.subarray(20, 30)).map((v) => Number(v.toFixed(6)))).toEqual([3, 3, 3, 3, 3, 0.3, 0.4, 0.1, 0.1, 0]);
  });
});

describe('judge/1 round evidence', () => {
  it('turns a level distribution into log-probabilities, its entropy and expected MOS', () => {
    const p = [0, 0.1, 0.2, 0.6, 0.1];
    const row = judgeRoundEvidence({ probabilities: p, levelIndex: 3 }, null)!;
    expect(row.logits[0]).toBeCloseTo(Math.log(1e-4), 12);
    expect(row.logits[3]).toBeCloseTo(Math.log(0.6), 12);
    const entropy = -(0.1 * Math.log(0.1) * 2 + 0.2 * Math.log(0.2) + 0.6 * Math.log(0.6));
    expect(row.evidence[0]).toBeCloseTo(entropy, 12);
    expect(row.evidence[1]).toBeCloseTo(0.1 * 1.5 + 0.2 * 2.5 + 0.6 * 3.5 + 0.1 * 4.5, 12);
    expect(row.evidence[2]).toBe(1);
    expect(row.evidence).toHaveLength(judgeColumns(0).length);
  });

  it('reads the word alone as a one-hot with zero entropy, flagged, and appends a description embedding', () => {
    const row = judgeRoundEvidence({ probabilities: null, levelIndex: 1 }, Float32Array.from([0.5, -0.5]))!;
    expect(row.evidence).toEqual([0, 1.5, 0, 0.5, -0.5]);
    expect(row.logits[1]).toBe(0);
    expect(judgeColumns(2)).toEqual(['entropy', 'expected_mos', 'logprobs_given', 'description_0', 'description_1']);
    expect(judgeRoundEvidence({ probabilities: null, levelIndex: null }, null)).toBeNull();
  });
});
