// Difference profiles: mean |step| between each pair of adjacent columns (and rows), gathered on a
// fixed budget of evenly spaced rows (columns). Grid artefacts — JPEG's 8×8 blocks, pixelation's
// k×k cells — show up as periodic peaks in these profiles at native resolution.
import type { Plane } from './types.js';

export interface DiffProfiles {
  /** cols[x] = mean |I(y,x) − I(y,x−1)| over sampled rows; cols[0] = 0. Length = width. */
  cols: Float32Array;
  /** rows[y] = mean |I(y,x) − I(y−1,x)| over sampled columns; rows[0] = 0. Length = height. */
  rows: Float32Array;
}

const SAMPLES = 128;

export function diffProfiles(plane: Plane): DiffProfiles {
  const { data, width: w, height: h } = plane;
  const cols = new Float32Array(w);
  const rows = new Float32Array(h);
  if (w >= 2) {
    const nRows = Math.min(h, SAMPLES);
    for (let s = 0; s < nRows; s++) {
      const y = nRows === 1 ? 0 : Math.floor((s * (h - 1)) / (nRows - 1));
      const base = y * w;
      for (let x = 1; x < w; x++) cols[x]! += Math.abs(data[base + x]! - data[base + x - 1]!);
    }
    const inv = 1 / nRows;
    for (let x = 0; x < w; x++) cols[x]! *= inv;
  }
  if (h >= 2) {
    const nCols = Math.min(w, SAMPLES);
    const xs = new Int32Array(nCols);
    for (let s = 0; s < nCols; s++) xs[s] = nCols === 1 ? 0 : Math.floor((s * (w - 1)) / (nCols - 1));
    for (let y = 1; y < h; y++) {
      const base = y * w;
      let acc = 0;
      for (let s = 0; s < nCols; s++) {
        const x = xs[s]!;
        acc += Math.abs(data[base + x]! - data[base - w + x]!);
      }
      rows[y] = acc / nCols;
    }
  }
  clipOutliers(cols);
  clipOutliers(rows);
  return { cols, rows };
}

// A few strong object edges would dominate phase means; cap every entry at 2× the profile's 95th
// percentile so the periodic structure of many steps decides (a grid of period ≤ 16 occupies
// > 5% of the entries, so its steps stay uncapped).
function clipOutliers(profile: Float32Array): void {
  if (profile.length < 3) return;
  // A profile is one entry per row or column (≤ a few thousand): a native sort of a copy is cheap.
  const sorted = profile.slice(1).sort();
  const cap = 2 * sorted[Math.floor(0.95 * (sorted.length - 1))]! + 1e-3;
  for (let i = 1; i < profile.length; i++) if (profile[i]! > cap) profile[i] = cap;
}
