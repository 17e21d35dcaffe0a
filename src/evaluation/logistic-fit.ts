// The 5-parameter logistic mapping of the VQEG/IQA protocol, fitted by Levenberg–Marquardt:
// f(x) = β1 (0.5 − 1/(1 + exp(β2 (x − β3)))) + β4 x + β5. PLCC and RMSE "after the fit" are computed
// on f(prediction), which removes a monotone nonlinearity that SRCC ignores anyway.
// Written here rather than pulled from npm: five parameters need a 5×5 solve, not a matrix library.

export type LogisticParameters = [number, number, number, number, number];

export interface LogisticFit {
  parameters: LogisticParameters;
  /** Which start point the kept fit came from (see LOGISTIC_START_POINTS). */
  start: 'protocol' | 'data-range';
  /** Sum of squared residuals of the kept fit. */
  sse: number;
  iterations: number;
  converged: boolean;
}

/** f(x) for one x; the sigmoid is evaluated on the side that cannot overflow exp. */
export function logistic5(x: number, b: readonly number[]): number {
  const u = b[1]! * (x - b[2]!);
  const s = u > 0 ? Math.exp(-u) / (1 + Math.exp(-u)) : 1 / (1 + Math.exp(u));
  return b[0]! * (0.5 - s) + b[3]! * x + b[4]!;
}

function sigmoidTerm(x: number, b: readonly number[]): number {
  const u = b[1]! * (x - b[2]!);
  return u > 0 ? Math.exp(-u) / (1 + Math.exp(-u)) : 1 / (1 + Math.exp(u));
}

function sumSquares(x: readonly number[], y: readonly number[], b: readonly number[]): number {
  let sse = 0;
  for (let i = 0; i < x.length; i++) sse += (y[i]! - logistic5(x[i]!, b)) ** 2;
  return sse;
}

/** Solves the n×n system A·d = g by Gaussian elimination with partial pivoting; null when singular. */
function solve(a: number[][], g: number[]): number[] | null {
  const n = g.length;
  const m = a.map((row, i) => [...row, g[i]!]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r]![col]!) > Math.abs(m[pivot]![col]!)) pivot = r;
    if (Math.abs(m[pivot]![col]!) < 1e-300) return null;
    [m[col], m[pivot]] = [m[pivot]!, m[col]!];
    for (let r = col + 1; r < n; r++) {
      const f = m[r]![col]! / m[col]![col]!;
      for (let c = col; c <= n; c++) m[r]![c]! -= f * m[col]![c]!;
    }
  }
  const d = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = m[r]![n]!;
    for (let c = r + 1; c < n; c++) s -= m[r]![c]! * d[c]!;
    d[r] = s / m[r]![r]!;
  }
  return d.every(Number.isFinite) ? d : null;
}

/**
 * The two start points the method doc names: the one most IQA code uses, [10, 0.1, mean(y), 0.1, 0.1],
 * and a data-scaled one, [max y, min y, mean x, std x / 4, 0]. Both are tried; the lower SSE wins.
 */
export function logisticStartPoints(x: readonly number[], y: readonly number[]): Record<LogisticFit['start'], LogisticParameters> {
  const mx = x.reduce((a, b) => a + b, 0) / x.length;
  const my = y.reduce((a, b) => a + b, 0) / y.length;
  const sx = Math.sqrt(x.reduce((a, b) => a + (b - mx) ** 2, 0) / x.length);
  return {
    protocol: [10, 0.1, my, 0.1, 0.1],
    'data-range': [Math.max(...y), Math.min(...y), mx, sx / 4, 0],
  };
}

function levenbergMarquardt(x: readonly number[], y: readonly number[], start: LogisticParameters, maxIterations: number) {
  let b = [...start];
  let sse = sumSquares(x, y, b);
  let lambda = 1e-3;
  let iterations = 0;
  let converged = false;
  for (; iterations < maxIterations; iterations++) {
    // Normal equations JᵀJ·δ = Jᵀr with the analytic Jacobian of f.
    const jtj = Array.from({ length: 5 }, () => new Array<number>(5).fill(0));
    const jtr = new Array<number>(5).fill(0);
    for (let i = 0; i < x.length; i++) {
      const xi = x[i]!;
      const s = sigmoidTerm(xi, b);
      const ds = s * (1 - s);
      const row = [0.5 - s, b[0]! * ds * (xi - b[2]!), -b[0]! * ds * b[1]!, xi, 1];
      const r = y[i]! - logistic5(xi, b);
      for (let p = 0; p < 5; p++) {
        jtr[p]! += row[p]! * r;
        for (let q = 0; q < 5; q++) jtj[p]![q]! += row[p]! * row[q]!;
      }
    }
    let improved = false;
    // Raise the damping until a step lowers the SSE (or the damping says no step can).
    while (lambda < 1e12) {
      // Marquardt's scaling: damp each parameter by its own curvature (plus a floor for zero columns).
      const damped = jtj.map((row, p) => row.map((v, q) => (p === q ? v + lambda * Math.max(v, 1e-12) : v)));
      const step = solve(damped, jtr);
      if (step !== null) {
        const candidate = b.map((v, p) => v + step[p]!);
        const candidateSse = sumSquares(x, y, candidate);
        if (Number.isFinite(candidateSse) && candidateSse <= sse) {
          const gain = sse - candidateSse;
          b = candidate;
          lambda = Math.max(lambda / 10, 1e-12);
          improved = true;
          if (gain <= 1e-14 * Math.max(sse, 1e-300) || candidateSse < 1e-28) converged = true;
          sse = candidateSse;
          break;
        }
      }
      lambda *= 10;
    }
    if (!improved) {
      converged = true;
      break;
    }
    if (converged) break;
  }
  return { parameters: b as LogisticParameters, sse, iterations, converged };
}

/**
 * Fits f to map `predicted` onto `mos` from both start points and keeps the lower SSE.
 * Throws RangeError when the arrays are unpaired or shorter than 5 (five parameters need five points).
 */
export function fitLogistic(predicted: readonly number[], mos: readonly number[], maxIterations = 500): LogisticFit {
  if (predicted.length !== mos.length) {
    throw new RangeError(`Expected arrays of equal length for the logistic fit but received ${predicted.length} and ${mos.length}`);
  }
  if (predicted.length < 5) throw new RangeError(`Expected at least 5 pairs for the logistic fit but received ${predicted.length}`);
  let best: LogisticFit | undefined;
  for (const [start, point] of Object.entries(logisticStartPoints(predicted, mos)) as [LogisticFit['start'], LogisticParameters][]) {
    const fit = levenbergMarquardt(predicted, mos, point, maxIterations);
    if (!Number.isFinite(fit.sse) || !fit.parameters.every(Number.isFinite)) continue;
    if (best === undefined || fit.sse < best.sse) best = { ...fit, start };
  }
  if (best === undefined) throw new RangeError('The logistic fit diverged from both start points');
  return best;
}

/** Applies a fitted mapping to every prediction. */
export function applyLogistic(predicted: readonly number[], parameters: readonly number[]): number[] {
  return predicted.map((x) => logistic5(x, parameters));
}
