// Moment-matching fits of the generalised Gaussian (GGD) and asymmetric GGD (AGGD), as in
// BRISQUE (Mittal, Moorthy & Bovik 2012, "No-reference image quality assessment in the spatial
// domain", IEEE TIP 21(12)). The shape is found by inverting ρ(α) = Γ(2/α)² / (Γ(1/α)Γ(3/α))
// in a table built once.

// Lanczos approximation (g = 7, n = 9) of ln Γ(x) for x > 0.
const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];
export function lnGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - lnGamma(1 - x);
  const z = x - 1;
  let a = LANCZOS[0]!;
  const t = z + 7.5;
  for (let i = 1; i < 9; i++) a += LANCZOS[i]! / (z + i);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

const ALPHA_MIN = 0.2;
const ALPHA_STEP = 0.001;
const TABLE_SIZE = 9801; // α ∈ [0.2, 10]
const RHO = new Float64Array(TABLE_SIZE);
for (let i = 0; i < TABLE_SIZE; i++) {
  const a = ALPHA_MIN + i * ALPHA_STEP;
  RHO[i] = Math.exp(2 * lnGamma(2 / a) - lnGamma(1 / a) - lnGamma(3 / a));
}

/** α with ρ(α) closest to `rho` (ρ is increasing in α); clamped to [0.2, 10]. */
export function shapeFromRho(rho: number): number {
  if (!(rho > RHO[0]!)) return ALPHA_MIN;
  if (rho >= RHO[TABLE_SIZE - 1]!) return ALPHA_MIN + (TABLE_SIZE - 1) * ALPHA_STEP;
  let lo = 0;
  let hi = TABLE_SIZE - 1;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (RHO[mid]! < rho) lo = mid;
    else hi = mid;
  }
  const i = rho - RHO[lo]! < RHO[hi]! - rho ? lo : hi;
  return ALPHA_MIN + i * ALPHA_STEP;
}

export interface GgdFit {
  /** Shape α (2 = Gaussian, 1 = Laplacian). */
  shape: number;
  /** Variance E[x²]. */
  variance: number;
}

/** GGD fit (zero mean) from Σ|x|, Σx², n. */
export function fitGgd(sumAbs: number, sumSq: number, n: number): GgdFit {
  if (n === 0 || sumSq <= 0) return { shape: 2, variance: 0 };
  const meanAbs = sumAbs / n;
  const variance = sumSq / n;
  return { shape: shapeFromRho((meanAbs * meanAbs) / variance), variance };
}

export interface AggdFit {
  shape: number;
  /** Mean η of the fitted AGGD (BRISQUE's fourth parameter). */
  mean: number;
  leftVariance: number;
  rightVariance: number;
}

/** AGGD fit from the moments of the negative (left) and positive (right) parts. */
export function fitAggd(
  sumAbs: number,
  sumSq: number,
  n: number,
  leftSq: number,
  leftN: number,
  rightSq: number,
  rightN: number,
): AggdFit {
  if (n === 0 || sumSq <= 0) return { shape: 2, mean: 0, leftVariance: 0, rightVariance: 0 };
  const leftVariance = leftN > 0 ? leftSq / leftN : 0;
  const rightVariance = rightN > 0 ? rightSq / rightN : 0;
  const sl = Math.sqrt(leftVariance);
  const sr = Math.sqrt(rightVariance);
  const meanAbs = sumAbs / n;
  const rhat = (meanAbs * meanAbs) / (sumSq / n);
  let shape = 2;
  if (sl > 0 && sr > 0) {
    const g = sl / sr;
    const g2 = g * g;
    const rnorm = (rhat * (g2 * g + 1) * (g + 1)) / ((g2 + 1) * (g2 + 1));
    shape = shapeFromRho(rnorm);
  } else {
    shape = shapeFromRho(rhat);
  }
  const scale = Math.sqrt(Math.exp(lnGamma(1 / shape) - lnGamma(3 / shape)));
  const mean = (sr - sl) * scale * Math.exp(lnGamma(2 / shape) - lnGamma(1 / shape));
  return { shape, mean, leftVariance, rightVariance };
}
