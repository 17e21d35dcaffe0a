// One aspect's accuracy report in the papers' protocol: SRCC, KRCC, PLCC and RMSE raw and after the
// 5-parameter logistic fit. The raw numbers say how the scorer's MOS behaves as shipped; the fitted
// ones are what the papers compare.
import { krcc, plcc, rmse, srcc } from './correlation.js';
import { applyLogistic, fitLogistic, type LogisticFit } from './logistic-fit.js';

export interface AspectMetrics {
  n: number;
  srcc: number;
  krcc: number;
  plcc: number;
  rmse: number;
  /** PLCC of f(prediction) against MOS; null when fewer than 5 images or the fit diverged. */
  plccLogistic: number | null;
  rmseLogistic: number | null;
  logistic: Pick<LogisticFit, 'parameters' | 'start' | 'converged'> | null;
}

/** Throws RangeError for unpaired or too short (< 2) arrays. */
export function aspectMetrics(predicted: readonly number[], mos: readonly number[]): AspectMetrics {
  const base = { n: predicted.length, srcc: srcc(predicted, mos), krcc: krcc(predicted, mos), plcc: plcc(predicted, mos), rmse: rmse(predicted, mos) };
  let fit: LogisticFit | null = null;
  if (predicted.length >= 5) {
    try {
      fit = fitLogistic(predicted, mos);
    } catch {
      // A fit that diverges from both starts is reported as null, never as a made-up number.
      fit = null;
    }
  }
  if (fit === null) return { ...base, plccLogistic: null, rmseLogistic: null, logistic: null };
  const mapped = applyLogistic(predicted, fit.parameters);
  return {
    ...base,
    plccLogistic: plcc(mapped, mos),
    rmseLogistic: rmse(mapped, mos),
    logistic: { parameters: fit.parameters, start: fit.start, converged: fit.converged },
  };
}
