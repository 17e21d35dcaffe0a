// Banding in smooth gradients (issue 16): a natural gradient in 8-bit luma climbs one level at a time
// between flat runs; a posterised or over-compressed one (a diffusion VAE's "contour" skies) climbs in
// steps of q ≥ 2. Measured on integer luma along every k-th row and every k-th column (k = 2, more on
// pictures above 600k pixels), at the boundary between two runs of equal value that are both
// ≥ MIN_RUN pixels long. Defined exactly as training/lite/probe_signals.py `banding`, where it was
// measured before this port (parity-tested).
import type { Plane } from './types.js';

const MIN_RUN = 4;
/** Bigger steps are edges between objects, not gradient steps. */
const MAX_STEP = 48;
/**
 * Pixels scanned per direction, at most (about): the line spacing k grows past 2 above 600k pixels,
 * so a 1024² picture scans every 4th line, 1920×1088 every 7th. A fixed cost like the other signals'
 * tile budgets; every training picture (≤ 768², 589,824 pixels) is scanned at k = 2. The shares it
 * reports do not depend on k, only their noise does.
 */
const SCAN_BUDGET = 300_000;

/** The spacing of the scanned rows and columns of a w × h picture. */
function lineSpacing(w: number, h: number): number {
  return Math.max(2, Math.ceil((w * h) / SCAN_BUDGET));
}

export interface BandingStats {
  /** Steps of ≥ 2 levels over all counted steps (+1 in the denominator: 0 when there are none). */
  bandFraction: number;
  /** Mean size of the ≥ 2 steps, in 8-bit levels (0 when there are none). */
  bandStep: number;
  /** Counted steps per 100 scanned pixels. */
  stepRate: number;
  /** Share of scanned pixels inside runs ≥ MIN_RUN. */
  flatFraction: number;
}

interface Counts {
  steps: number;
  bigSteps: number;
  bigSum: number;
  flatPixels: number;
}

/**
 * Adds the long runs of one scan line (`n` samples from `start`, `stride` apart) to `c`. A run of
 * ≥ MIN_RUN samples holds MIN_RUN − 1 consecutive equal pairs, so probing every 3rd pair finds every
 * one; only a probe that hits an equal pair walks the run. Visiting each pixel with a branch on
 * "same as the last one" cost 1.6–1.9× as much on 1024² generated images: that branch is
 * unpredictable where about a third of neighbouring lumas are equal.
 */
function scanLine(d: Float32Array, start: number, stride: number, n: number, c: Counts): void {
  const end = start + n * stride;
  const lastPair = end - stride;
  const probe = (MIN_RUN - 1) * stride;
  let prevEnd = -1; // one past the last long run, and its value: a step counts only between adjacent runs
  let prevValue = 0;
  let j = start;
  while (j < lastPair) {
    const v = d[j]!;
    if (d[j + stride] !== v) {
      j += probe;
      continue;
    }
    let s = j;
    while (s > start && d[s - stride] === v) s -= stride;
    let e = j + 2 * stride;
    while (e < end && d[e] === v) e += stride;
    const length = (e - s) / stride;
    if (length >= MIN_RUN) {
      c.flatPixels += length;
      if (prevEnd === s) {
        const step = Math.abs(v - prevValue);
        if (step <= MAX_STEP) {
          c.steps++;
          if (step >= 2) {
            c.bigSteps++;
            c.bigSum += step;
          }
        }
      }
      prevEnd = e;
      prevValue = v;
    }
    j = e; // the next run starts here
  }
}

/** Banding statistics of an integer luma plane. */
export function banding(plane: Plane): BandingStats {
  const { data, width: w, height: h } = plane;
  const c: Counts = { steps: 0, bigSteps: 0, bigSum: 0, flatPixels: 0 };
  const k = lineSpacing(w, h);
  for (let y = 0; y < h; y += k) scanLine(data, y * w, 1, w, c);
  // Column by column: one column's probes touch ~h/3 cache lines, which its neighbours reuse.
  for (let x = 0; x < w; x += k) scanLine(data, x, w, h, c);
  const scanned = Math.ceil(h / k) * w + Math.ceil(w / k) * h;
  return {
    bandFraction: c.bigSteps / (c.steps + 1),
    bandStep: c.bigSteps > 0 ? c.bigSum / c.bigSteps : 0,
    stepRate: (100 * c.steps) / scanned,
    flatFraction: c.flatPixels / scanned,
  };
}
