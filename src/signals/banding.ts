// Banding in smooth gradients (issue 16): a natural gradient in 8-bit luma climbs one level at a time
// between flat runs; a posterised or over-compressed one (a diffusion VAE's "contour" skies) climbs in
// steps of q ≥ 2. Measured on integer luma along every 2nd row and every 2nd column, at the boundary
// between two runs of equal value that are both ≥ MIN_RUN pixels long. Defined exactly as
// training/lite/probe_signals.py `banding`, where it was measured before this port (parity-tested).
import type { Plane } from './types.js';

const MIN_RUN = 4;
/** Bigger steps are edges between objects, not gradient steps. */
const MAX_STEP = 48;

export interface BandingStats {
  /** Steps of ≥ 2 levels over all counted steps (+1 in the denominator: 0 when there are none). */
  bandFraction: number;
  /** Mean size of the ≥ 2 steps, in 8-bit levels / 16 (0 when there are none). */
  bandStep: number;
  /** Counted steps per 100 scanned pixels. */
  stepRate: number;
  /** Share of scanned pixels inside runs ≥ MIN_RUN. */
  flatFraction: number;
}

/** The counts over every scan line. */
class RunScanner {
  steps = 0;
  bigSteps = 0;
  bigSum = 0;
  flatPixels = 0;

  /** Counts a closed run of ≥ MIN_RUN pixels and, when the run before it was one too, the step between them. */
  long(length: number, value: number, prevLong: boolean, prevValue: number): void {
    this.flatPixels += length;
    if (prevLong) {
      const d = Math.abs(value - prevValue);
      if (d <= MAX_STEP) {
        this.steps++;
        if (d >= 2) {
          this.bigSteps++;
          this.bigSum += d;
        }
      }
    }
  }
}

/**
 * Banding statistics of an integer luma plane. Rows are scanned in place; the even columns are
 * scanned together, row by row, each with its own run state (cache-friendly on large images).
 */
export function banding(plane: Plane): BandingStats {
  const { data, width: w, height: h } = plane;
  const scan = new RunScanner();

  for (let y = 0; y < h; y += 2) {
    const row = y * w;
    let value = data[row]!;
    let length = 1;
    let prevLong = false;
    let prevValue = 0;
    for (let x = 1; x < w; x++) {
      const v = data[row + x]!;
      if (v === value) {
        length++;
        continue;
      }
      // Most runs in textured content are short: test before the call, which then only sees long runs.
      if (length >= MIN_RUN) {
        scan.long(length, value, prevLong, prevValue);
        prevLong = true;
      } else prevLong = false;
      prevValue = value;
      value = v;
      length = 1;
    }
    if (length >= MIN_RUN) scan.long(length, value, prevLong, prevValue);
  }

  const cols = (w + 1) >> 1;
  const value = new Float32Array(cols);
  const length = new Int32Array(cols);
  const prevLong = new Uint8Array(cols);
  const prevValue = new Float32Array(cols);
  for (let c = 0; c < cols; c++) {
    value[c] = data[2 * c]!;
    length[c] = 1;
  }
  for (let y = 1; y < h; y++) {
    const row = y * w;
    for (let c = 0; c < cols; c++) {
      const v = data[row + 2 * c]!;
      if (v === value[c]) {
        length[c]!++;
        continue;
      }
      if (length[c]! >= MIN_RUN) {
        scan.long(length[c]!, value[c]!, prevLong[c] === 1, prevValue[c]!);
        prevLong[c] = 1;
      } else prevLong[c] = 0;
      prevValue[c] = value[c]!;
      value[c] = v;
      length[c] = 1;
    }
  }
  for (let c = 0; c < cols; c++) if (length[c]! >= MIN_RUN) scan.long(length[c]!, value[c]!, prevLong[c] === 1, prevValue[c]!);

  const scanned = ((h + 1) >> 1) * w + cols * h;
  return {
    bandFraction: scan.bigSteps / (scan.steps + 1),
    bandStep: scan.bigSteps > 0 ? scan.bigSum / scan.bigSteps / 16 : 0,
    stepRate: (100 * scan.steps) / scanned,
    flatFraction: scan.flatPixels / scanned,
  };
}
