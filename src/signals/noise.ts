// Noise level: Immerkær's fast estimator (Immerkær 1996, "Fast noise variance estimation", CVIU 64)
// applied per 16×16 block; the flattest blocks (lowest estimates, unclipped) carry the sensor-like
// noise while textured blocks inflate the estimate, so the low tail is the noise figure.
import type { Plane, Tiles } from './types.js';

export interface NoiseStats {
  /** σ in 8-bit levels from the flattest 20% of blocks (bias-corrected for pure Gaussian noise). */
  sigmaFlat: number;
  /** Median block σ, in 8-bit levels (texture + noise). */
  sigmaMedian: number;
}

const BLOCK = 16;
// σ = sqrt(π/2) / 6 · E|I ∗ N| for N = [1 -2 1; -2 4 -2; 1 -2 1].
const IMMERKAER = Math.sqrt(Math.PI / 2) / 6;
// The mean of the lowest 20% of 196-sample block estimates of pure Gaussian noise is ≈ 0.91 σ
// (measured on synthetic noise, see test/signals/noise.test.ts).
const LOW_TAIL_BIAS = 1 / 0.91;

let blockScratch = new Float32Array(1024);

/** Blockwise Immerkær noise estimate over the given tiles. */
export function noiseLevel(plane: Plane, tiles: Tiles): NoiseStats {
  const { data, width: w } = plane;
  const tw = tiles.tileWidth;
  const th = tiles.tileHeight;
  if (tw < 3 || th < 3) return { sigmaFlat: 0, sigmaMedian: 0 };
  const bw = tw >= BLOCK ? BLOCK : tw;
  const bh = th >= BLOCK ? BLOCK : th;
  const perX = Math.floor(tw / bw);
  const perY = Math.floor(th / bh);
  const maxBlocks = tiles.count * perX * perY;
  if (blockScratch.length < maxBlocks) blockScratch = new Float32Array(maxBlocks);
  const all = blockScratch;
  let kept = 0;
  let clippedBlocks = 0;
  // Clipped blocks read as noise-free; they go to the end of the buffer and count only as fallback.
  let tail = maxBlocks;
  for (let t = 0; t < tiles.count; t++) {
    const tx = tiles.origins[2 * t]!;
    const ty = tiles.origins[2 * t + 1]!;
    for (let by = 0; by < perY; by++) {
      for (let bx = 0; bx < perX; bx++) {
        const x0 = tx + bx * bw;
        const y0 = ty + by * bh;
        let acc = 0;
        let clipped = false;
        for (let y = y0 + 1; y < y0 + bh - 1; y++) {
          let i = y * w + x0 + 1;
          const end = i + bw - 2;
          for (; i < end; i++) {
            const up = data[i - w - 1]! - 2 * data[i - w]! + data[i - w + 1]!;
            const mid = data[i - 1]! - 2 * data[i]! + data[i + 1]!;
            const down = data[i + w - 1]! - 2 * data[i + w]! + data[i + w + 1]!;
            const v = up - 2 * mid + down;
            acc += Math.abs(v);
            const c = data[i]!;
            if (c <= 1 || c >= 254) clipped = true;
          }
        }
        const sigma = (IMMERKAER * acc) / ((bw - 2) * (bh - 2));
        if (clipped) {
          all[--tail] = sigma;
          clippedBlocks++;
        } else {
          all[kept++] = sigma;
        }
      }
    }
  }
  // Too few unclipped blocks (dark or blown-out image): fall back to every block.
  let values: Float32Array;
  if (kept >= Math.max(4, 0.1 * (kept + clippedBlocks))) {
    values = all.subarray(0, kept);
  } else {
    all.copyWithin(kept, tail, maxBlocks);
    values = all.subarray(0, kept + clippedBlocks);
  }
  if (values.length === 0) return { sigmaFlat: 0, sigmaMedian: 0 };
  values.sort();
  const low = Math.max(1, Math.round(values.length * 0.2));
  let lowSum = 0;
  for (let i = 0; i < low; i++) lowSum += values[i]!;
  return {
    sigmaFlat: (lowSum / low) * LOW_TAIL_BIAS,
    sigmaMedian: values[values.length >> 1]!,
  };
}
