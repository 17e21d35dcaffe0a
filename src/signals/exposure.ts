// Exposure, contrast and posterisation from the luma and per-channel histograms (exact counts,
// no extra pass over the pixels).

export interface ExposureStats {
  /** Fraction of pixels ≥ 250, per channel R, G, B. */
  clipHigh: [number, number, number];
  /** Fraction of pixels ≤ 5, per channel R, G, B. */
  clipLow: [number, number, number];
  /** Fraction of pixels whose luma is ≥ 250 / ≤ 5. */
  lumaClipHigh: number;
  lumaClipLow: number;
}

export interface ContrastStats {
  /** Mean luma, 0..255. */
  mean: number;
  /** RMS contrast: standard deviation of luma, 8-bit levels (Peli 1990). */
  rms: number;
  /** Luma percentiles 1, 5, 95, 99, 8-bit levels. */
  p1: number;
  p5: number;
  p95: number;
  p99: number;
}

export interface PosterisationStats {
  /** Occupied luma bins / bins in the 0.1–99.9 percentile range (1 = continuous tones). */
  lumaOccupancy: number;
  /** Same, averaged over R, G, B (posterisation usually quantises each channel). */
  channelOccupancy: number;
  /** Fraction of in-range channel bins far below their neighbours' mean (comb-like histogram gaps). */
  combGaps: number;
}

function total(hist: Uint32Array, offset: number): number {
  let n = 0;
  for (let i = 0; i < 256; i++) n += hist[offset + i]!;
  return n;
}

function tailCount(hist: Uint32Array, offset: number, from: number, to: number): number {
  let n = 0;
  for (let i = from; i <= to; i++) n += hist[offset + i]!;
  return n;
}

export function exposure(lumaHist: Uint32Array, channelHist: Uint32Array): ExposureStats {
  const n = Math.max(1, total(lumaHist, 0));
  const high = (o: number): number => tailCount(channelHist, o, 250, 255) / n;
  const low = (o: number): number => tailCount(channelHist, o, 0, 5) / n;
  return {
    clipHigh: [high(0), high(256), high(512)],
    clipLow: [low(0), low(256), low(512)],
    lumaClipHigh: tailCount(lumaHist, 0, 250, 255) / n,
    lumaClipLow: tailCount(lumaHist, 0, 0, 5) / n,
  };
}

/** Smallest bin value v such that at least fraction q of the pixels are ≤ v. */
function percentile(hist: Uint32Array, offset: number, n: number, q: number): number {
  const target = q * n;
  let cum = 0;
  for (let i = 0; i < 256; i++) {
    cum += hist[offset + i]!;
    if (cum >= target && cum > 0) return i;
  }
  return 255;
}

export function contrast(lumaHist: Uint32Array): ContrastStats {
  const n = total(lumaHist, 0);
  if (n === 0) return { mean: 0, rms: 0, p1: 0, p5: 0, p95: 0, p99: 0 };
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < 256; i++) {
    const c = lumaHist[i]!;
    s += c * i;
    s2 += c * i * i;
  }
  const mean = s / n;
  return {
    mean,
    rms: Math.sqrt(Math.max(0, s2 / n - mean * mean)),
    p1: percentile(lumaHist, 0, n, 0.01),
    p5: percentile(lumaHist, 0, n, 0.05),
    p95: percentile(lumaHist, 0, n, 0.95),
    p99: percentile(lumaHist, 0, n, 0.99),
  };
}

function occupancy(hist: Uint32Array, offset: number): { occupied: number; gaps: number } {
  const n = total(hist, offset);
  if (n === 0) return { occupied: 1, gaps: 0 };
  const lo = percentile(hist, offset, n, 0.001);
  const hi = percentile(hist, offset, n, 0.999);
  let occupied = 0;
  let gaps = 0;
  for (let i = lo; i <= hi; i++) {
    const c = hist[offset + i]!;
    if (c > 0) occupied++;
    // A gap: this bin holds < 20% of what its ±2 neighbours hold on average.
    let around = 0;
    let k = 0;
    for (let j = i - 2; j <= i + 2; j++) {
      if (j === i || j < lo || j > hi) continue;
      around += hist[offset + j]!;
      k++;
    }
    if (k > 0 && c < 0.2 * (around / k)) gaps++;
  }
  const span = hi - lo + 1;
  return { occupied: occupied / span, gaps: gaps / span };
}

export function posterisation(lumaHist: Uint32Array, channelHist: Uint32Array): PosterisationStats {
  const l = occupancy(lumaHist, 0);
  const r = occupancy(channelHist, 0);
  const g = occupancy(channelHist, 256);
  const b = occupancy(channelHist, 512);
  return {
    lumaOccupancy: l.occupied,
    channelOccupancy: (r.occupied + g.occupied + b.occupied) / 3,
    combGaps: (r.gaps + g.gaps + b.gaps) / 3,
  };
}
