// The arithmetic the rounds share: cosine similarity, level logits around a MOS, expected MOS of a
// level distribution, and the linear similarity calibration read from pack.json.
import { LEVELS, MOS_MAX } from '../score-result.js';
import { softmax } from '../levels.js';

/** Dot product of two unit vectors: their cosine similarity. */
export function cosine(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new RangeError(`Expected vectors of equal length but received ${a.length} and ${b.length}`);
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

/** The mean of unit vectors, renormalised: one anchor from several phrasings of it. */
export function meanDirection(vectors: readonly Float32Array[]): Float32Array {
  if (vectors.length === 0) throw new RangeError('Expected at least one vector but received none');
  const out = new Float32Array(vectors[0]!.length);
  for (const v of vectors) for (let i = 0; i < out.length; i++) out[i]! += v[i]!;
  const norm = Math.sqrt(out.reduce((s, v) => s + v * v, 0)) || 1;
  return out.map((v) => v / norm);
}

/** Level centres on the MOS scale: bad 0.5 … excellent 4.5. */
export const LEVEL_CENTRES = LEVELS.map((_, i) => i + 0.5);

/** MOS expected under the level distribution the logits give. */
export function expectedMos(logits: readonly number[]): number {
  return softmax(logits).reduce((sum, p, i) => sum + p * LEVEL_CENTRES[i]!, 0);
}

/** Level logits of a distribution centred on `mos` with width `spread` (a discretised Gaussian). */
export function logitsAroundMos(mos: number, spread: number): number[] {
  return LEVEL_CENTRES.map((centre) => -((centre - mos) ** 2) / (2 * spread * spread));
}

/** Maps a cosine similarity linearly onto 0–5: `low` → 0, `high` → 5, clamped. */
export function calibrateSimilarity(similarity: number, calibration: { low: number; high: number }): number {
  const mos = (MOS_MAX * (similarity - calibration.low)) / (calibration.high - calibration.low);
  return Math.min(MOS_MAX, Math.max(0, mos));
}

export function percent(p: number): string {
  return `${Math.round(p * 100)}%`;
}
