// Over-sharpening: unsharp masking leaves halos — the profile across a strong edge overshoots the
// plateau on the bright side and undershoots it on the dark side (after the edge-overshoot
// measures of Marziliano et al. 2002 and Ferzli & Karam's ringing work). A clean or blurred step
// has zero overshoot; natural texture next to edges gives a small baseline.
import type { Plane, Tiles } from './types.js';

export interface OvershootStats {
  /** Mean (overshoot + undershoot) / edge height at strong edges; 0 = none, ≈ 0.3+ = visible halos. */
  overshoot: number;
  /** Fraction of scanned positions that are strong, isolated edges (steps ≥ 16 levels). */
  edgeDensity: number;
}

const MIN_STEP = 16;
const REACH = 4; // plateau sampled REACH px before the edge and REACH + 1 px after it
const FLAT = 3; // plateau flatness: |step| between the two outermost samples on each side

// Scans one direction (`step` = 1 horizontal, = width vertical) inside every tile.
function scan(plane: Plane, tiles: Tiles, horizontal: boolean, acc: Float64Array): void {
  const { data, width: w } = plane;
  const step = horizontal ? 1 : w;
  const tw = tiles.tileWidth;
  const th = tiles.tileHeight;
  const mx = horizontal ? REACH + 1 : 0;
  const my = horizontal ? 0 : REACH + 1;
  if (tw <= 2 * mx + 2 || th <= 2 * my + 2) return;
  let sum = 0;
  let edges = 0;
  for (let t = 0; t < tiles.count; t++) {
    const x0 = tiles.origins[2 * t]!;
    const y0 = tiles.origins[2 * t + 1]!;
    const yEnd = y0 + th - my - 1;
    const xEnd = x0 + tw - mx - 1;
    for (let y = y0 + my; y < yEnd; y++) {
      for (let i = y * w + x0 + mx, end = y * w + xEnd; i < end; i++) {
        const c = data[i]!;
        const next = data[i + step]!;
        const a = Math.abs(next - c);
        if (a < MIN_STEP) continue;
        const left = data[i - REACH * step]!;
        const right = data[i + (REACH + 1) * step]!;
        // The step must be the largest of its three and lie between two flat plateaus (next to
        // texture, any extreme would read as a halo). One branch on 0/1 selects: in noisy images
        // each test alone is a coin flip that a branch per test would mispredict.
        const isolatedEdge =
          +(Math.abs(c - data[i - step]!) <= a) &
          +(Math.abs(data[i + 2 * step]! - next) < a) &
          +(Math.abs(left - data[i - (REACH + 1) * step]!) <= FLAT) &
          +(Math.abs(right - data[i + (REACH + 2) * step]!) <= FLAT);
        if (isolatedEdge === 0) continue;
        const hi = left > right ? left : right;
        const lo = left > right ? right : left;
        const height = hi - lo;
        if (height < MIN_STEP) continue;
        let max = -1;
        let min = 256;
        for (let k = 1 - REACH; k <= REACH; k++) {
          const v = data[i + k * step]!;
          if (v > max) max = v;
          if (v < min) min = v;
        }
        const over = (max > hi ? max - hi : 0) + (min < lo ? lo - min : 0);
        sum += over / height;
        edges++;
      }
    }
  }
  acc[0]! += sum;
  acc[1]! += edges;
  acc[2]! += tiles.count * (tw - 2 * mx - 1) * (th - 2 * my - 1);
}

export function overshoot(plane: Plane, tiles: Tiles): OvershootStats {
  const acc = new Float64Array(3); // sum of ratios, edges, positions scanned
  scan(plane, tiles, true, acc);
  scan(plane, tiles, false, acc);
  return {
    overshoot: acc[1]! > 0 ? acc[0]! / acc[1]! : 0,
    edgeDensity: acc[2]! > 0 ? acc[1]! / acc[2]! : 0,
  };
}
