// The three rounds on hand-made unit vectors: which level, which finding, and the evidence order.
import { describe, expect, it } from 'vitest';
import { CLIP_ROUNDS } from '../../../src/model/clip/default-rounds.js';
import { authenticityRound } from '../../../src/scoring/rounds/authenticity-round.js';
import { correspondenceRound } from '../../../src/scoring/rounds/correspondence-round.js';
import { qualityRound } from '../../../src/scoring/rounds/quality-round.js';

/** Unit vector of `dim` dimensions along axis `i`, optionally mixed with axis `j`. */
function axis(dim: number, i: number, j?: number, mix = 0): Float32Array {
  const v = new Float32Array(dim);
  v[i] = Math.sqrt(1 - mix * mix);
  if (j !== undefined) v[j] = mix;
  return v;
}

describe('qualityRound', () => {
  const levels = [0, 1, 2, 3, 4].map((i) => axis(8, i));
  it('gives the level whose anchor the image is closest to, with its anchor text as finding', () => {
    const out = qualityRound(axis(8, 4, 3, 0.3), { levels }, CLIP_ROUNDS.quality);
    expect(out.logits.indexOf(Math.max(...out.logits))).toBe(4);
    expect(out.mos).toBeGreaterThan(4);
    expect(out.findings[0]).toMatchObject({ aspect: 'quality', code: 'quality-anchor', severity: 'info' });
    expect(out.findings[0]!.text).toContain('an excellent quality photo');
    expect(out.evidence).toHaveLength(5);
  });

  it('reports a bad image as a major finding and adds the pack level bias', () => {
    const out = qualityRound(axis(8, 0), { levels }, CLIP_ROUNDS.quality);
    expect(out.findings[0]!.severity).toBe('major');
    const biased = qualityRound(axis(8, 0), { levels }, { ...CLIP_ROUNDS.quality, levelBias: [-1000, 0, 0, 0, 0] });
    expect(biased.logits.indexOf(Math.max(...biased.logits))).not.toBe(0);
  });
});

describe('correspondenceRound', () => {
  const config = { ...CLIP_ROUNDS.correspondence, similarity: { low: 0, high: 1 } };
  const image = axis(8, 0, 1, 0.6); // cos 0.8 with axis 0, 0.6 with axis 1
  it('names the weakest noun phrase when it is barely present', () => {
    const out = correspondenceRound(
      { image, prompt: axis(8, 0), phrases: [{ text: 'cat', embedding: axis(8, 0) }, { text: 'red umbrella', embedding: axis(8, 5) }], truncation: null },
      config,
    );
    expect(out.findings[0]).toEqual({ aspect: 'correspondence', code: 'prompt-part-missing', text: "'red umbrella' barely present", severity: 'major' });
    expect(out.evidence).toHaveLength(3);
    // Blended: 0.6 × prompt (4.0) + 0.4 × mean of phrases (4.0 and 0) = 3.2.
    expect(out.mos).toBeCloseTo(3.2, 5);
  });

  it('says every part is present when the weakest phrase is above the threshold, and reports truncation', () => {
    const out = correspondenceRound(
      { image, prompt: axis(8, 0), phrases: [{ text: 'cat', embedding: axis(8, 0) }, { text: 'hat', embedding: axis(8, 1) }], truncation: { tokens: 2000, limit: 77 } },
      config,
    );
    expect(out.findings.map((f) => f.code)).toEqual(['prompt-parts-present', 'prompt-truncated']);
    expect(out.findings[0]!.text).toBe("all 2 parts of the prompt are present; weakest: 'hat'");
    expect(out.findings[1]!.text).toContain('77 tokens (it has 2000)');
  });

  it('judges on the whole prompt when it has no noun phrases', () => {
    const out = correspondenceRound({ image, prompt: axis(8, 0), phrases: [], truncation: null }, config);
    expect(out.mos).toBeCloseTo(4, 5);
    expect(out.findings[0]!.code).toBe('prompt-whole-only');
  });
});

describe('authenticityRound', () => {
  const anchors = { real: [axis(8, 0), axis(8, 1), axis(8, 2), axis(8, 3)], artifact: [4, 5, 6, 7, 0, 1].map((i) => axis(8, i === 0 || i === 1 ? 7 : i)) };
  it('names the closest artifact anchor when the artifact side wins', () => {
    const out = authenticityRound(axis(8, 5), anchors, CLIP_ROUNDS.authenticity);
    expect(out.mos).toBeLessThan(1);
    expect(out.findings[0]).toMatchObject({ code: 'generation-artifacts', severity: 'major' });
    expect(out.findings[0]!.text).toContain(CLIP_ROUNDS.authenticity.artifact[1]!);
  });

  it('reports a real-looking image as info with the closest real anchor', () => {
    const out = authenticityRound(axis(8, 2), anchors, CLIP_ROUNDS.authenticity);
    expect(out.mos).toBeGreaterThan(4);
    expect(out.findings[0]).toMatchObject({ code: 'looks-authentic', severity: 'info' });
    expect(out.findings[0]!.text).toContain(CLIP_ROUNDS.authenticity.real[2]!);
    expect(out.evidence).toHaveLength(10);
  });
});
