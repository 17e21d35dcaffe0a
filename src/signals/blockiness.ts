// JPEG blockiness: how much stronger steps are across the 8×8 grid (x ≡ 0 mod 8, anchored at the
// image origin as JPEG encodes it) than off it (after Wang, Bovik & Evans 2000, "Blind measurement
// of blocking artifacts in images", ICIP). 1 means no grid; a shifted copy loses the alignment but
// keeps a strong best-phase ratio.
import type { DiffProfiles } from './profiles.js';

export interface BlockinessStats {
  /** On-grid / off-grid mean |step| across columns (vertical block edges); 1 = none. */
  gridRatioH: number;
  /** Same across rows (horizontal block edges). */
  gridRatioV: number;
  /** Mean over both directions of the strongest phase's ratio, ignoring alignment. */
  bestPhaseRatio: number;
}

/** Phase ratio of a profile for period 8: mean at positions ≡ phase (mod 8) over the mean elsewhere. */
function phaseRatio(profile: Float32Array, phase: number, period: number): number {
  let on = 0;
  let nOn = 0;
  let off = 0;
  let nOff = 0;
  for (let i = 1; i < profile.length; i++) {
    if (i % period === phase) {
      on += profile[i]!;
      nOn++;
    } else {
      off += profile[i]!;
      nOff++;
    }
  }
  if (nOn === 0 || nOff === 0) return 1;
  return ratio(on / nOn, off / nOff);
}

// Ratio with a floor on the denominator so flat profiles read as "no structure" (1), not ∞.
function ratio(a: number, b: number): number {
  const eps = 1e-3;
  return (a + eps) / (b + eps);
}

function bestPhase(profile: Float32Array, period: number): number {
  let best = 0;
  for (let p = 0; p < period; p++) best = Math.max(best, phaseRatio(profile, p, period));
  return best;
}

export function blockiness(profiles: DiffProfiles): BlockinessStats {
  return {
    gridRatioH: phaseRatio(profiles.cols, 0, 8),
    gridRatioV: phaseRatio(profiles.rows, 0, 8),
    bestPhaseRatio: 0.5 * (bestPhase(profiles.cols, 8) + bestPhase(profiles.rows, 8)),
  };
}

export { phaseRatio };
