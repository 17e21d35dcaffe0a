// What every zero-shot round yields (level logits over bad…excellent, its MOS, findings and the
// evidence behind them) and the seam through which a pack's trained predictor consumes the rounds.
import type { Aspect } from '../score-result.js';
import type { Finding } from '../score-result.js';

export interface RoundOutput {
  aspect: Aspect;
  /** Level logits, bad…excellent. */
  logits: number[];
  /** The round's MOS on 0–5. */
  mos: number;
  /** The round's finding first, then any others it has (never empty). */
  findings: Finding[];
  /** The similarities the round judged from, in a fixed order per round: the predictor's input. */
  evidence: number[];
}

/** An aspect's final logits and MOS, as a predictor returns them. */
export interface AspectPrediction {
  logits: number[];
  mos: number;
}

/**
 * A pack's trained predictor (the M3 predictor over image and round evidence). When a pack carries
 * one, the scorer hands it every round's output and takes its predictions in place of the zero-shot
 * ones for the aspects it returns.
 */
export interface RoundsPredictor {
  predict(input: { image: Float32Array; rounds: readonly RoundOutput[] }): Promise<Partial<Record<Aspect, AspectPrediction>>>;
  close(): Promise<void>;
}
