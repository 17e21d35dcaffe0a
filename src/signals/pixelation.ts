// Pixelation: nearest-neighbour upscaling by k repeats every column (row) k times, so the step
// profile is zero inside cells and carries all its energy at one phase of period k.
import type { DiffProfiles } from './profiles.js';

export interface PixelationStats {
  /** Strongest periodic concentration over periods 2..16 (≈ k for clean k× pixelation, ≈ 1 otherwise). */
  strength: number;
  /** Smallest period reaching 90% of that strength (the cell size), 0 when strength < MIN_STRENGTH. */
  period: number;
  /** Fraction of adjacent column/row pairs that are (near-)duplicates of each other. */
  duplicateFraction: number;
}

// Small images reach ≈ 1.5 by chance (few entries per phase); real cells give ≫ 3.
const MIN_STRENGTH = 2.5;

function periodic(profile: Float32Array): { strength: number; period: number } {
  const byPeriod = new Float32Array(17);
  const sums = new Float64Array(16);
  const counts = new Float64Array(16);
  let total = 0;
  for (let i = 1; i < profile.length; i++) total += profile[i]!;
  let best = 1;
  for (let k = 2; k <= 16 && k < profile.length; k++) {
    sums.fill(0);
    counts.fill(0);
    for (let i = 1, p = 1; i < profile.length; i++) {
      sums[p]! += profile[i]!;
      counts[p]!++;
      if (++p === k) p = 0;
    }
    // One pass per period: each phase's mean against the mean of all other positions.
    let s = 0;
    for (let p = 0; p < k; p++) {
      const nOn = counts[p]!;
      const nOff = profile.length - 1 - nOn;
      if (nOn === 0 || nOff === 0) continue;
      const r = (sums[p]! / nOn + 1e-3) / ((total - sums[p]!) / nOff + 1e-3);
      if (r > s) s = r;
    }
    byPeriod[k] = s;
    if (s > best) best = s;
  }
  let period = 0;
  if (best >= MIN_STRENGTH) {
    for (let k = 2; k <= 16; k++) {
      if (byPeriod[k]! >= 0.9 * best) {
        period = k;
        break;
      }
    }
  }
  return { strength: best, period };
}

function duplicates(profile: Float32Array): number {
  let mean = 0;
  for (let i = 1; i < profile.length; i++) mean += profile[i]!;
  if (profile.length < 2) return 0;
  mean /= profile.length - 1;
  if (mean < 1e-3) return 0; // a flat image duplicates trivially; that is not pixelation
  const limit = 0.02 * mean;
  let dup = 0;
  for (let i = 1; i < profile.length; i++) if (profile[i]! <= limit) dup++;
  return dup / (profile.length - 1);
}

export function pixelation(profiles: DiffProfiles): PixelationStats {
  const c = periodic(profiles.cols);
  const r = periodic(profiles.rows);
  const strength = 0.5 * (c.strength + r.strength);
  const period = c.strength >= r.strength ? c.period : r.period;
  return {
    strength,
    period: strength >= MIN_STRENGTH ? period : 0,
    duplicateFraction: 0.5 * (duplicates(profiles.cols) + duplicates(profiles.rows)),
  };
}
