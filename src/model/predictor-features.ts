// Builds the predictor's inputs from what a pack's quality model returns: spatial tokens pooled onto
// a small grid, and one row per aspect round (level logits + evidence). Training (agiqa train) and
// scoring use this one implementation, so the features the predictor learned on are the ones it sees.
import { ASPECTS, LEVELS, type Aspect } from './aspects.js';

/**
 * Averages a spatial map [crops, channels, size, size] (or [crops, size, size, channels] with
 * layout 'nhwc', as keras-born graphs give it) over the crops and onto grid × grid cells,
 * returning tokens [grid², channels] (token-major). Cells are the adaptive-average-pool windows
 * [⌊i·size/grid⌋, ⌈(i+1)·size/grid⌉), so 7 → 3 overlaps by one row, like torch's adaptive pooling.
 */
export function poolSpatialTokens(
  spatial: Float32Array,
  crops: number,
  channels: number,
  size: number,
  grid: number,
  layout: 'nchw' | 'nhwc' = 'nchw',
): Float32Array {
  if (spatial.length !== crops * channels * size * size) {
    throw new RangeError(`Expected a spatial map of ${crops}×${channels}×${size}×${size} = ${crops * channels * size * size} values but received ${spatial.length}`);
  }
  const tokens = new Float32Array(grid * grid * channels);
  // Steps between neighbouring channels and neighbouring pixels in the flat map; a crop's block is the same size in both layouts.
  const [channelStep, pixelStep] = layout === 'nchw' ? [size * size, 1] : [1, channels];
  const windows = Array.from({ length: grid }, (_, i) => [Math.floor((i * size) / grid), Math.ceil(((i + 1) * size) / grid)] as const);
  for (let gy = 0; gy < grid; gy++) {
    const [y0, y1] = windows[gy]!;
    for (let gx = 0; gx < grid; gx++) {
      const [x0, x1] = windows[gx]!;
      const count = crops * (y1 - y0) * (x1 - x0);
      const token = (gy * grid + gx) * channels;
      for (let c = 0; c < crops; c++) {
        for (let ch = 0; ch < channels; ch++) {
          const base = c * channels * size * size + ch * channelStep;
          let sum = 0;
          for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) sum += spatial[base + (y * size + x) * pixelStep]!;
          tokens[token + ch] = tokens[token + ch]! + sum / count;
        }
      }
    }
  }
  return tokens;
}

export interface RoundEvidence {
  /** Level logits over bad…excellent. */
  logits: readonly number[];
  /** The round's evidence features (e.g. the classical signals for quality). */
  evidence: ArrayLike<number>;
}

/**
 * The `rounds` rows [R, 5 + evidenceWidth] and `round_mask` [R] for one image, in ASPECTS order;
 * aspects without evidence are zero rows with mask 0. Throws RangeError on a wrong logit count or
 * evidence wider than the predictor takes.
 */
export function roundRows(byAspect: Partial<Record<Aspect, RoundEvidence>>, evidenceWidth: number): { rounds: Float32Array; mask: Float32Array } {
  const width = LEVELS.length + evidenceWidth;
  const rounds = new Float32Array(ASPECTS.length * width);
  const mask = new Float32Array(ASPECTS.length);
  ASPECTS.forEach((aspect, r) => {
    const round = byAspect[aspect];
    if (round === undefined) return;
    if (round.logits.length !== LEVELS.length) throw new RangeError(`Expected ${LEVELS.length} level logits for ${aspect} but received ${round.logits.length}`);
    if (round.evidence.length > evidenceWidth) {
      throw new RangeError(`Expected at most ${evidenceWidth} evidence features for ${aspect} but received ${round.evidence.length}`);
    }
    rounds.set(round.logits, r * width);
    for (let i = 0; i < round.evidence.length; i++) rounds[r * width + LEVELS.length + i] = round.evidence[i]!;
    mask[r] = 1;
  });
  return { rounds, mask };
}
