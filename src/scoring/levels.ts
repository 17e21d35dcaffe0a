// Level probabilities and the overall MOS: the arithmetic shared by every pack's scorer.
import { LEVELS, MOS_MAX, MOS_MIN, levelOfMos, type AspectScore, type LevelProbabilities } from './score-result.js';

export function softmax(logits: readonly number[]): number[] {
  const max = Math.max(...logits);
  const exps = logits.map((v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((v) => v / sum);
}

export function clampMos(mos: number): number {
  return Math.min(MOS_MAX, Math.max(MOS_MIN, mos));
}

/** An aspect's score from its level logits (bad…excellent) and the MOS the pack computed for it. */
export function aspectScoreFromLogits(logits: readonly number[], mos: number): AspectScore {
  if (logits.length !== LEVELS.length) throw new RangeError(`Expected ${LEVELS.length} level logits but received ${logits.length}`);
  const p = softmax(logits);
  const probabilities = Object.fromEntries(LEVELS.map((level, i) => [level, round(p[i]!, 4)])) as LevelProbabilities;
  const clamped = clampMos(mos);
  return { mos: round(clamped, 3), level: levelOfMos(clamped), probabilities };
}

/** The overall MOS: the mean over the aspects the pack judged. */
export function overallMos(aspects: readonly (AspectScore | { mos: null })[]): number {
  const judged = aspects.filter((a): a is AspectScore => a.mos !== null);
  if (judged.length === 0) throw new RangeError('Expected at least one judged aspect but received none');
  return round(judged.reduce((sum, a) => sum + a.mos, 0) / judged.length, 3);
}

export function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
