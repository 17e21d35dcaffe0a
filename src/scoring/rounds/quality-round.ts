// Quality round (the CLIP-IQA / Q-Align idea): the image's similarity to one anchor text per level,
// softmaxed at the pack's temperature, gives the level distribution; the MOS is its expectation.
import type { ClipRounds } from '../../model/clip/clip-input.js';
import { softmax } from '../levels.js';
import { LEVELS, type Finding } from '../score-result.js';
import { cosine, expectedMos, percent } from './level-logits.js';
import type { RoundOutput } from './round.js';

export interface QualityAnchors {
  /** One unit vector per level, bad…excellent (the mean of that level's anchor texts). */
  levels: readonly Float32Array[];
}

export function qualityRound(image: Float32Array, anchors: QualityAnchors, config: ClipRounds['quality']): RoundOutput {
  const similarities = anchors.levels.map((anchor) => cosine(image, anchor));
  const logits = similarities.map((s, i) => s / config.temperature + config.levelBias[i]!);
  const p = softmax(logits);
  const mos = expectedMos(logits);
  const top = p.indexOf(Math.max(...p));
  const level = LEVELS[top]!;
  const anchor = config.anchors[level][0]!;
  const finding: Finding = {
    aspect: 'quality',
    code: 'quality-anchor',
    text: `closest to "${anchor}" (${percent(p[top]!)})`,
    severity: top === 0 ? 'major' : top === 1 ? 'minor' : 'info',
  };
  return { aspect: 'quality', logits, mos, findings: [finding], evidence: similarities };
}
