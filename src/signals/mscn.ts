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

let region = new Float32Array(0);
let tmpA = new Float32Array(0);
let tmpB = new Float32Array(0);
let coeff = new Float32Array(0);

export function mscn(plane: Plane, tiles: Tiles): MscnStats {
  const { data, width: w, height: h } = plane;
  const tw = tiles.tileWidth;
  const th = tiles.tileHeight;
  const ew = tw + 2 * MARGIN;
  const eh = th + 2 * MARGIN;
  if (region.length < ew * eh) {
    region = new Float32Array(ew * eh);
    tmpA = new Float32Array(ew * eh);
    tmpB = new Float32Array(ew * eh);
    coeff = new Float32Array(tw * th);
  }
  if (coeff.length < tw * th) coeff = new Float32Array(tw * th);
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
    // Neighbour products inside the tile, accumulated in locals (branch-free: the sign of a
    // product is a coin flip that a branch would mispredict).
    let hA = 0, hS = 0, hN = 0, hG = 0, hZ = 0;
    let vA = 0, vS = 0, vN = 0, vG = 0, vZ = 0;
    let dA = 0, dS = 0, dN = 0, dG = 0, dZ = 0;
    let eA = 0, eS = 0, eN = 0, eG = 0, eZ = 0;
    let count = 0;
    for (let y = 0; y < th - 1; y++) {
      for (let x = 1, i = y * tw + 1; x < tw - 1; x++, i++) {
        const m = coeff[i]!;
        const ph = m * coeff[i + 1]!;
        const pv = m * coeff[i + tw]!;
        const pd = m * coeff[i + tw + 1]!;
        const pe = m * coeff[i + tw - 1]!;
        let t = 0.5 * (ph - Math.abs(ph));
        hA += Math.abs(ph); hS += ph * ph; hN += t * t; hG += (+(ph > 0) - +(ph < 0)); hZ += +(ph !== 0);
        t = 0.5 * (pv - Math.abs(pv));
        vA += Math.abs(pv); vS += pv * pv; vN += t * t; vG += (+(pv > 0) - +(pv < 0)); vZ += +(pv !== 0);
        t = 0.5 * (pd - Math.abs(pd));
        dA += Math.abs(pd); dS += pd * pd; dN += t * t; dG += (+(pd > 0) - +(pd < 0)); dZ += +(pd !== 0);
        t = 0.5 * (pe - Math.abs(pe));
        eA += Math.abs(pe); eS += pe * pe; eN += t * t; eG += (+(pe > 0) - +(pe < 0)); eZ += +(pe !== 0);
        count++;
      }
    }
    addPair(mom, 3, hA, hS, count, hN, hG, hZ);
    addPair(mom, 10, vA, vS, count, vN, vG, vZ);
    addPair(mom, 17, dA, dS, count, dN, dG, dZ);
    addPair(mom, 24, eA, eS, count, eN, eG, eZ);
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

// Per pair: Σ|p|, Σp², n, Σp² over p < 0, Σ sign(p) = n₊ − n₋, Σ |sign(p)| = n₊ + n₋.
function addPair(mom: Float64Array, o: number, abs: number, sq: number, n: number, negSq: number, sign: number, nonZero: number): void {
  mom[o]! += abs;
  mom[o + 1]! += sq;
  mom[o + 2]! += n;
  mom[o + 3]! += negSq;
  mom[o + 4]! += sign;
  mom[o + 5]! += nonZero;
}
