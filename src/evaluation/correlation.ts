// The correlation measures of the IQA papers (SRCC, PLCC, KRCC) and RMSE, as pure functions on
// paired arrays of predictions and ground-truth MOS. No fitting here: see logistic-fit.ts.

function assertPaired(a: readonly number[], b: readonly number[], what: string, minimum = 2): void {
  if (a.length !== b.length) throw new RangeError(`Expected arrays of equal length for ${what} but received ${a.length} and ${b.length}`);
  if (a.length < minimum) throw new RangeError(`Expected at least ${minimum} pairs for ${what} but received ${a.length}`);
  for (let i = 0; i < a.length; i++) {
    if (!Number.isFinite(a[i]) || !Number.isFinite(b[i])) {
      throw new RangeError(`Expected finite numbers for ${what} but received ${a[i]} and ${b[i]} at index ${i}`);
    }
  }
}

function mean(values: readonly number[]): number {
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/**
 * Ranks 1..n with tied values sharing the average of the ranks they span (the "fractional" ranking
 * that Spearman's coefficient needs for ties to count fairly).
 */
export function averageRanks(values: readonly number[]): number[] {
  const order = values.map((_, i) => i).sort((i, j) => values[i]! - values[j]!);
  const ranks = new Array<number>(values.length);
  let start = 0;
  while (start < order.length) {
    let end = start;
    while (end + 1 < order.length && values[order[end + 1]!] === values[order[start]!]) end++;
    // Positions start..end (0-based) hold ranks start+1..end+1; their mean is (start+end)/2 + 1.
    const rank = (start + end) / 2 + 1;
    for (let k = start; k <= end; k++) ranks[order[k]!] = rank;
    start = end + 1;
  }
  return ranks;
}

/**
 * Pearson's linear correlation (PLCC). Returns NaN when either side is constant, because a
 * correlation with no variation is undefined rather than zero. Throws RangeError on unpaired input.
 */
export function plcc(predicted: readonly number[], mos: readonly number[]): number {
  assertPaired(predicted, mos, 'PLCC');
  const mx = mean(predicted);
  const my = mean(mos);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < predicted.length; i++) {
    const dx = predicted[i]! - mx;
    const dy = mos[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return Number.NaN;
  return sxy / Math.sqrt(sxx * syy);
}

/** Spearman's rank correlation (SRCC): Pearson on average ranks, so ties are handled. Throws RangeError. */
export function srcc(predicted: readonly number[], mos: readonly number[]): number {
  assertPaired(predicted, mos, 'SRCC');
  return plcc(averageRanks(predicted), averageRanks(mos));
}

/**
 * Kendall's tau-b (KRCC): (concordant − discordant) / sqrt((n0 − tiesX)(n0 − tiesY)), the variant
 * scipy and the IQA papers use. O(n²), which is a second or less for the 20k images of the largest
 * benchmark. Throws RangeError.
 */
export function krcc(predicted: readonly number[], mos: readonly number[]): number {
  assertPaired(predicted, mos, 'KRCC');
  let concordant = 0;
  let discordant = 0;
  let tiedX = 0;
  let tiedY = 0;
  const n = predicted.length;
  for (let i = 0; i < n; i++) {
    const xi = predicted[i]!;
    const yi = mos[i]!;
    for (let j = i + 1; j < n; j++) {
      const dx = xi - predicted[j]!;
      const dy = yi - mos[j]!;
      if (dx === 0 && dy === 0) {
        tiedX++;
        tiedY++;
      } else if (dx === 0) tiedX++;
      else if (dy === 0) tiedY++;
      else if (dx * dy > 0) concordant++;
      else discordant++;
    }
  }
  const pairs = (n * (n - 1)) / 2;
  const denominator = Math.sqrt((pairs - tiedX) * (pairs - tiedY));
  if (denominator === 0) return Number.NaN;
  return (concordant - discordant) / denominator;
}

/** Root mean squared error between predictions and MOS, on the MOS scale. Throws RangeError. */
export function rmse(predicted: readonly number[], mos: readonly number[]): number {
  assertPaired(predicted, mos, 'RMSE', 1);
  let sum = 0;
  for (let i = 0; i < predicted.length; i++) sum += (predicted[i]! - mos[i]!) ** 2;
  return Math.sqrt(sum / predicted.length);
}
