// Colour: colourfulness (Hasler & Süsstrunk 2003, "Measuring colourfulness in natural images"),
// colour cast as the mean opponent chroma of the least chromatic pixels (those that should be
// grey; a cast moves them all the same way), and HSV saturation statistics. Runs on a strided
// subsample (≈ 40k pixels): these are global statistics that a subsample estimates well. The same
// pass fills the luma and per-channel histograms that exposure, contrast and posterisation read.
import type { SignalImage } from './types.js';

export interface ColourStats {
  /** Hasler–Süsstrunk M in 8-bit units (≈ 0 grey, 15 dull, 60 quite colourful, > 110 extreme). */
  colourfulness: number;
  /** Mean opponent chroma over all pixels: rg = R − G, yb = (R + G)/2 − B, 8-bit units. */
  meanRg: number;
  meanYb: number;
  /** Mean rg / yb of the least chromatic 10% of pixels: the cast of would-be neutrals. */
  castRg: number;
  castYb: number;
  /** HSV saturation (max − min)/max: mean, standard deviation, fraction > 0.8. */
  saturationMean: number;
  saturationStd: number;
  saturationHigh: number;
}

const TARGET_SAMPLES = 40000;
const CHROMA_BINS = 384;
// Share of pixels (least chromatic first) taken as would-be neutrals for the cast.
const NEUTRAL_FRACTION = 0.1;

/**
 * Colour statistics of a strided subsample; also fills `lumaHist` (256 bins, luma as in planes.ts)
 * and `channelHist` (3×256: R, then G, then B) from the same pixels.
 */
export function colourStats(image: SignalImage, lumaHist: Uint32Array, channelHist: Uint32Array): ColourStats {
  const { rgb, width: w, height: h } = image;
  const stride = Math.max(1, Math.floor(Math.sqrt((w * h) / TARGET_SAMPLES)));
  // Per chroma bin: pixel count, Σ rg, Σ 2·yb, interleaved so one pixel touches one cache line.
  const bins = new Float64Array(3 * CHROMA_BINS);
  // rg and 2·yb are integers, so their sums (and sums of squares) are exact in any order; yb itself
  // is recovered with an exact halving at the end.
  let n = 0;
  let sRg = 0;
  let sRg2 = 0;
  let sYb2x = 0;
  let sYb2x2 = 0;
  let sSat = 0;
  let sSat2 = 0;
  let high = 0;
  for (let y = 0; y < h; y += stride) {
    const rowEnd = 3 * (y * w + w);
    for (let j = 3 * y * w; j < rowEnd; j += 3 * stride) {
      const r = rgb[j]!;
      const g = rgb[j + 1]!;
      const b = rgb[j + 2]!;
      lumaHist[(77 * r + 150 * g + 29 * b + 128) >> 8]!++;
      channelHist[r]!++;
      channelHist[256 + g]!++;
      channelHist[512 + b]!++;
      const rg = r - g;
      const yb2x = r + g - 2 * b;
      sRg += rg;
      sRg2 += rg * rg;
      sYb2x += yb2x;
      sYb2x2 += yb2x * yb2x;
      // |rg| + |yb| truncated, in integers: (2|rg| + |2·yb|) >> 1.
      const chroma = Math.min(CHROMA_BINS - 1, (2 * Math.abs(rg) + Math.abs(yb2x)) >> 1);
      bins[3 * chroma]!++;
      bins[3 * chroma + 1]! += rg;
      bins[3 * chroma + 2]! += yb2x;
      const mx = Math.max(Math.max(r, g), b);
      const mn = Math.min(Math.min(r, g), b);
      if (mx > 0) {
        const sat = (mx - mn) / mx;
        sSat += sat;
        sSat2 += sat * sat;
        high += +(5 * (mx - mn) > 4 * mx); // sat > 0.8, exactly, in integers
      }
      n++;
    }
  }
  if (n === 0) {
    return { colourfulness: 0, meanRg: 0, meanYb: 0, castRg: 0, castYb: 0, saturationMean: 0, saturationStd: 0, saturationHigh: 0 };
  }
  const sYb = 0.5 * sYb2x;
  const sYb2 = 0.25 * sYb2x2;
  const mRg = sRg / n;
  const mYb = sYb / n;
  const vRg = Math.max(0, sRg2 / n - mRg * mRg);
  const vYb = Math.max(0, sYb2 / n - mYb * mYb);
  const colourfulness = Math.sqrt(vRg + vYb) + 0.3 * Math.sqrt(mRg * mRg + mYb * mYb);
  // Least chromatic pixels: walk the chroma bins upwards.
  const want = NEUTRAL_FRACTION * n;
  let cn = 0;
  let cRg = 0;
  let cYb2x = 0;
  for (let i = 0; i < CHROMA_BINS && cn < want; i++) {
    cn += bins[3 * i]!;
    cRg += bins[3 * i + 1]!;
    cYb2x += bins[3 * i + 2]!;
  }
  const cYb = 0.5 * cYb2x;
  const satMean = sSat / n;
  return {
    colourfulness,
    meanRg: mRg,
    meanYb: mYb,
    castRg: cn > 0 ? cRg / cn : 0,
    castYb: cn > 0 ? cYb / cn : 0,
    saturationMean: satMean,
    saturationStd: Math.sqrt(Math.max(0, sSat2 / n - satMean * satMean)),
    saturationHigh: high / n,
  };
}
