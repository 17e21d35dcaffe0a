// MSCN statistics (BRISQUE, Mittal et al. 2012): mean-subtracted contrast-normalised coefficients
// (I − μ)/(σ + C) with local Gaussian-weighted μ, σ, and their products with the four neighbours.
// Natural images give a GGD near-Gaussian; distortions change its shape and the products' skew.
// Deviations from the paper: a 5-tap binomial window (σ = 1) instead of 7×7 σ = 7/6, without the
// centre pixel, computed per tile with a 2-pixel margin taken from the image where available
// (clamped at image borders).
import { fitAggd, fitGgd } from './ggd.js';
import type { Plane, Tiles } from './types.js';

export interface MscnStats {
  shape: number;
  variance: number;
  /** Products with the right, lower, lower-right and lower-left neighbours: AGGD shape, mean, variance. */
  pairs: { shape: number; mean: number; variance: number }[];
}

// C = 1 on 0..255 levels, as in the BRISQUE reference implementation.
const C = 1;
const MARGIN = 2;
const CENTRE = (6 / 16) * (6 / 16); // weight of the centre pixel in the 5×5 binomial window
const KEEP = 1 / (1 - CENTRE);

export function mscn(plane: Plane, tiles: Tiles): MscnStats {
  const { data, width: w, height: h } = plane;
  const tw = tiles.tileWidth;
  const th = tiles.tileHeight;
  const ew = tw + 2 * MARGIN;
  const eh = th + 2 * MARGIN;
  // Per-call scratch (≈ 70 kB for 64-px tiles, ≈ 30 µs to allocate): no state kept between calls.
  const region = new Float32Array(ew * eh);
  const tmpA = new Float32Array(ew * eh);
  const tmpB = new Float32Array(ew * eh);
  const coeff = new Float32Array(tw * th);
  // moments: [Σ|m|, Σm², n] then per pair [Σ|p|, Σp², n, Σp²(p<0), Σsign(p), Σ|sign(p)|, unused]
  const mom = new Float64Array(3 + 4 * 7);
  for (let t = 0; t < tiles.count; t++) {
    const x0 = tiles.origins[2 * t]!;
    const y0 = tiles.origins[2 * t + 1]!;
    // Copy tile plus margin; rows are copied whole when the margin lies inside the image,
    // coordinates are clamped at the image border otherwise.
    const inside = x0 >= MARGIN && x0 + tw + MARGIN <= w;
    for (let y = 0; y < eh; y++) {
      let sy = y0 + y - MARGIN;
      sy = sy < 0 ? 0 : sy >= h ? h - 1 : sy;
      const row = sy * w;
      const o = y * ew;
      if (inside) {
        region.set(data.subarray(row + x0 - MARGIN, row + x0 - MARGIN + ew), o);
        continue;
      }
      for (let x = 0; x < ew; x++) {
        let sx = x0 + x - MARGIN;
        sx = sx < 0 ? 0 : sx >= w ? w - 1 : sx;
        region[o + x] = data[row + sx]!;
      }
    }
    // Horizontal binomial [1 4 6 4 1]/16 of I and I² over the inner columns.
    for (let y = 0; y < eh; y++) {
      const o = y * ew;
      for (let x = MARGIN; x < ew - MARGIN; x++) {
        const i = o + x;
        const a = region[i - 2]!;
        const b = region[i - 1]!;
        const c = region[i]!;
        const d = region[i + 1]!;
        const e = region[i + 2]!;
        tmpA[i] = (a + e + 4 * (b + d) + 6 * c) * 0.0625;
        tmpB[i] = (a * a + e * e + 4 * (b * b + d * d) + 6 * c * c) * 0.0625;
      }
    }
    // Vertical pass and normalisation.
    for (let y = 0; y < th; y++) {
      const o = (y + MARGIN) * ew;
      for (let x = 0; x < tw; x++) {
        const i = o + x + MARGIN;
        const mu =
          (tmpA[i - 2 * ew]! + tmpA[i + 2 * ew]! + 4 * (tmpA[i - ew]! + tmpA[i + ew]!) + 6 * tmpA[i]!) * 0.0625;
        const mu2 =
          (tmpB[i - 2 * ew]! + tmpB[i + 2 * ew]! + 4 * (tmpB[i - ew]! + tmpB[i + ew]!) + 6 * tmpB[i]!) * 0.0625;
        // Leave the centre pixel out of its own μ, σ: with a window this small, including it bounds
        // |m| and makes even Gaussian noise look platykurtic (α ≈ 3 instead of 2).
        const c = region[i]!;
        const lm = (mu - CENTRE * c) * KEEP;
        const lv = (mu2 - CENTRE * c * c) * KEEP - lm * lm;
        const m = (c - lm) / (Math.sqrt(lv > 0 ? lv : 0) + C);
        coeff[y * tw + x] = m;
        mom[0]! += Math.abs(m);
        mom[1]! += m * m;
      }
    }
    mom[2]! += tw * th;
    // Neighbour products inside the tile: right, lower, lower-right, lower-left.
    addPairMoments(coeff, tw, th, 1, mom, 3);
    addPairMoments(coeff, tw, th, tw, mom, 10);
    addPairMoments(coeff, tw, th, tw + 1, mom, 17);
    addPairMoments(coeff, tw, th, tw - 1, mom, 24);
  }
  const g = fitGgd(mom[0]!, mom[1]!, mom[2]!);
  const pairs = [];
  for (let k = 0; k < 4; k++) {
    const o = 3 + 7 * k;
    const nNeg = 0.5 * (mom[o + 5]! - mom[o + 4]!);
    const nPos = 0.5 * (mom[o + 5]! + mom[o + 4]!);
    const leftSq = mom[o + 3]!;
    const f = fitAggd(mom[o]!, mom[o + 1]!, mom[o + 2]!, leftSq, nNeg, mom[o + 1]! - leftSq, nPos);
    pairs.push({ shape: f.shape, mean: f.mean, variance: 0.5 * (f.leftVariance + f.rightVariance) });
  }
  return { shape: g.shape, variance: g.variance, pairs };
}

/**
 * Adds the moments of the products of every coefficient with its neighbour at `offset` (all four
 * neighbours lie inside the tile for y < th − 1, 0 < x < tw − 1) to mom[o..o+5]: Σ|p|, Σp², n,
 * Σp² over p < 0, Σ sign(p) = n₊ − n₋, Σ |sign(p)| = n₊ + n₋. One neighbour per pass keeps the
 * five accumulators in registers (four at once spilled); branch-free because the sign of a product
 * is a coin flip that a branch would mispredict.
 */
function addPairMoments(coeff: Float32Array, tw: number, th: number, offset: number, mom: Float64Array, o: number): void {
  let abs = 0;
  let sq = 0;
  let negSq = 0;
  let sign = 0;
  let nonZero = 0;
  for (let y = 0; y < th - 1; y++) {
    for (let i = y * tw + 1, end = y * tw + tw - 1; i < end; i++) {
      const p = coeff[i]! * coeff[i + offset]!;
      const neg = 0.5 * (p - Math.abs(p));
      abs += Math.abs(p);
      sq += p * p;
      negSq += neg * neg;
      sign += +(p > 0) - +(p < 0);
      nonZero += +(p !== 0);
    }
  }
  mom[o]! += abs;
  mom[o + 1]! += sq;
  mom[o + 2]! += (th - 1) * Math.max(0, tw - 2);
  mom[o + 3]! += negSq;
  mom[o + 4]! += sign;
  mom[o + 5]! += nonZero;
}
