// computeSignals: one luma pass, 2×/4× downsampled planes, then every signal module; returns the
// fixed-order feature vector for the quality model and the named measures behind findings.
import { agiqaError } from '../errors/index.js';
import { banding } from './banding.js';
import { blockiness } from './blockiness.js';
import { colourStats } from './colour.js';
import { contrast, exposure, posterisation } from './exposure.js';
import { mscn } from './mscn.js';
import { noiseLevel } from './noise.js';
import { overshoot } from './overshoot.js';
import { pixelation } from './pixelation.js';
import { downsample2, lumaPlanes } from './planes.js';
import { diffProfiles } from './profiles.js';
import { sharpness } from './sharpness.js';
import { tileLayout } from './tiles.js';
import type { SignalImage } from './types.js';

/** Bump whenever a feature's definition, order or scaling changes: packs refuse a mismatch. */
// 2: dropped block_flat_steps (73 → 72 features); 3: + banding (band_*, flat_frac; 76 features).
export const SIGNALS_VERSION = 'signals-3';

const MSCN_PAIRS = ['h', 'v', 'd1', 'd2'] as const;
function mscnNames(scale: string): string[] {
  const names = [`mscn_${scale}_shape`, `mscn_${scale}_var`];
  for (const p of MSCN_PAIRS) names.push(`mscn_${scale}_${p}_shape`, `mscn_${scale}_${p}_mean`, `mscn_${scale}_${p}_var`);
  return names;
}

/** Feature order of `SignalReport.features`; stable within one SIGNALS_VERSION. */
export const SIGNAL_FEATURE_NAMES: readonly string[] = Object.freeze([
  'sharp_lapvar_s1', // log1p(variance of Laplacian), native scale
  'sharp_lapvar_s2',
  'sharp_lapvar_s4',
  'sharp_grad_s1', // log1p(mean squared gradient)
  'sharp_grad_s2',
  'sharp_grad_s4',
  'sharp_ratio_s1_s2', // log((lapvar_s1 + 1) / (lapvar_s2 + 1))
  'sharp_ratio_s2_s4',
  'sharp_equal_pairs', // fraction of exactly equal horizontal neighbours, native scale
  'noise_sigma_flat', // 8-bit levels / 10
  'noise_sigma_median',
  'noise_sigma_s2',
  'block_grid_h', // log(on-grid / off-grid step ratio)
  'block_grid_v',
  'block_best_phase',
  'pix_strength', // log(periodic concentration)
  'pix_period', // cell size / 16
  'pix_duplicates',
  'halo_overshoot_s1',
  'halo_overshoot_s2',
  'edge_density_s1',
  'clip_high_r',
  'clip_high_g',
  'clip_high_b',
  'clip_low_r',
  'clip_low_g',
  'clip_low_b',
  'luma_mean', // 0..1
  'luma_rms',
  'luma_p1',
  'luma_p5',
  'luma_p95',
  'luma_p99',
  'colourfulness', // /100
  'chroma_mean_rg', // /100
  'chroma_mean_yb',
  'cast_rg',
  'cast_yb',
  'sat_mean',
  'sat_std',
  'sat_high',
  'post_luma_occupancy',
  'post_channel_occupancy',
  'post_comb_gaps',
  ...mscnNames('s1'),
  ...mscnNames('s2'),
  'band_frac', // share of ≥ 2-level steps between flat runs (banding.ts)
  'band_step', // their mean size / 16
  'band_rate', // counted steps per 100 pixels
  'flat_frac', // share of pixels in flat runs
]);

/** The human-meaningful subset of the signals, in natural units. */
export interface SignalMeasures {
  width: number;
  height: number;
  /** Variance of the Laplacian at native scale, squared 8-bit levels (≈ 0 flat/blurred, 100s–1000s sharp). */
  sharpness: number;
  /** log((lapvar_s1+1)/(lapvar_s2+1)): fine-scale energy relative to the 2× scale; drops with blur. */
  fineToCoarse: number;
  /** Noise σ in 8-bit luma levels (flattest blocks, Immerkær). */
  noiseSigma: number;
  /** σ at the 2× scale over σ at native scale: ≈ 0.5 for pixel noise (averaging halves it), ≥ 1 for texture. */
  noiseScaleRatio: number;
  /** JPEG grid ratio: on-grid / off-grid mean step, mean of both directions (1 = none). */
  blockiness: number;
  /** Periodic concentration of steps (≈ cell size for pixelation, ≈ 1 otherwise) and the cell size. */
  pixelationStrength: number;
  pixelationCell: number;
  /** Fraction of pixels whose luma is ≥ 250 / ≤ 5. */
  clippedHighlights: number;
  clippedShadows: number;
  /** Luma mean and RMS contrast (standard deviation), 8-bit levels. */
  brightness: number;
  contrastRms: number;
  /** Luma p1..p99 range, 8-bit levels. */
  lumaRange: number;
  /** Hasler–Süsstrunk colourfulness, 8-bit units. */
  colourfulness: number;
  /** Colour cast of near-neutral pixels: opponent rg and yb means, magnitude and hue name. */
  castRg: number;
  castYb: number;
  castStrength: number;
  castDirection: string;
  /** Mean HSV saturation 0..1. */
  saturation: number;
  /** Occupied fraction of in-range channel histogram bins (1 = continuous; posterised ≪ 1). */
  toneOccupancy: number;
  /** Mean relative overshoot at strong edges (halo strength), native scale. */
  overshoot: number;
  /** Share of the steps between flat luma runs that jump ≥ 2 levels (≈ 0 natural gradients, → 1 banded ones; JPEG's flat blocks too). */
  bandFraction: number;
  /** Mean size of those jumps, 8-bit levels (0 when there are none). */
  bandStep: number;
}

export interface SignalReport {
  /** Fixed order, length SIGNAL_FEATURE_NAMES.length; always finite. */
  features: Float32Array;
  measures: SignalMeasures;
}

// Tile budgets (64-px tiles): ≈ 82k pixels at native scale, 41k at 2× and 4×, 20k per MSCN scale —
// a fixed cost once images pass ~300², which keeps 1024² near its time budget. Only the luma pass
// (and the 2× plane) grows with the image.
const TILE = 64;
const NATIVE_TILES = 20;
const COARSE_TILES = 10;
const MSCN_TILES = 5;

let lumaBuf = new Float32Array(0);
let halfBuf = new Float32Array(0);
let quarterBuf = new Float32Array(0);

function castDirection(rg: number, yb: number): string {
  if (Math.hypot(rg, yb) < 1) return 'none';
  const names = ['red', 'orange', 'yellow', 'yellow-green', 'green', 'cyan', 'blue', 'magenta'];
  // Angle in the (rg, yb) plane: 0° = +rg (red), 90° = +yb (yellow), 180° green, 270° blue.
  const deg = ((Math.atan2(yb, rg) * 180) / Math.PI + 360) % 360;
  const anchors = [0, 45, 90, 135, 180, 225, 270, 315];
  let best = 0;
  for (let i = 1; i < anchors.length; i++) {
    const d = Math.min(Math.abs(deg - anchors[i]!), 360 - Math.abs(deg - anchors[i]!));
    const dBest = Math.min(Math.abs(deg - anchors[best]!), 360 - Math.abs(deg - anchors[best]!));
    if (d < dBest) best = i;
  }
  return names[best]!;
}

/**
 * Computes every classical signal of an 8-bit sRGB image.
 * @throws AGQ_ERR_INVALID_INPUT when the dimensions are not positive integers or `rgb` is shorter
 *   than width × height × 3.
 */
export function computeSignals(image: SignalImage): SignalReport {
  const { rgb, width: w, height: h } = image;
  const issues: string[] = [];
  if (!Number.isInteger(w) || w < 1) issues.push(`width: expected a positive integer but received ${String(w)}`);
  if (!Number.isInteger(h) || h < 1) issues.push(`height: expected a positive integer but received ${String(h)}`);
  if (!(rgb instanceof Uint8Array)) issues.push('rgb: expected a Uint8Array of interleaved 8-bit RGB');
  else if (issues.length === 0 && rgb.length < w * h * 3)
    issues.push(`rgb: expected at least ${w * h * 3} bytes (width × height × 3) but received ${rgb.length}`);
  if (issues.length > 0) throw agiqaError('AGQ_ERR_INVALID_INPUT', { where: 'signal image', issues });

  const n = w * h;
  const hn = Math.max(1, w >> 1) * Math.max(1, h >> 1);
  if (lumaBuf.length < n) lumaBuf = new Float32Array(n);
  if (halfBuf.length < hn) halfBuf = new Float32Array(hn);
  const planes = lumaPlanes(rgb, w, h, lumaBuf, halfBuf);
  const s1 = planes.luma;
  const s2 = planes.half;
  const qn = Math.max(1, s2.width >> 1) * Math.max(1, s2.height >> 1);
  if (quarterBuf.length < qn) quarterBuf = new Float32Array(qn);
  const s4 = downsample2(s2, quarterBuf);
  const lumaHist = new Uint32Array(256);
  const channelHist = new Uint32Array(768);
  const cl = colourStats(image, lumaHist, channelHist);

  const t1 = tileLayout(w, h, TILE, NATIVE_TILES);
  const t2 = tileLayout(s2.width, s2.height, TILE, COARSE_TILES);
  const t4 = tileLayout(s4.width, s4.height, TILE, COARSE_TILES);
  const m1Tiles = tileLayout(w, h, TILE, MSCN_TILES);
  const m2Tiles = tileLayout(s2.width, s2.height, TILE, MSCN_TILES);

  const sh1 = sharpness(s1, t1);
  const sh2 = sharpness(s2, t2);
  const sh4 = sharpness(s4, t4);
  const no1 = noiseLevel(s1, t1);
  const no2 = noiseLevel(s2, t2);
  const profiles = diffProfiles(s1);
  const bl = blockiness(profiles);
  const px = pixelation(profiles);
  const ov1 = overshoot(s1, t1);
  const ov2 = overshoot(s2, t2);
  const ex = exposure(lumaHist, channelHist);
  const co = contrast(lumaHist);
  const po = posterisation(lumaHist, channelHist);
  const ms1 = mscn(s1, m1Tiles);
  const ms2 = mscn(s2, m2Tiles);
  const bd = banding(s1);

  const f = new Float32Array(SIGNAL_FEATURE_NAMES.length);
  let k = 0;
  const put = (v: number): void => {
    f[k++] = Number.isFinite(v) ? v : 0;
  };
  // Log-ratios of near-zero denominators (perfect grids) are capped so no feature dwarfs the rest.
  const putLog = (v: number): void => put(Math.max(-8, Math.min(8, Math.log(v))));
  put(Math.log1p(sh1.laplacianVariance));
  put(Math.log1p(sh2.laplacianVariance));
  put(Math.log1p(sh4.laplacianVariance));
  put(Math.log1p(sh1.gradientEnergy));
  put(Math.log1p(sh2.gradientEnergy));
  put(Math.log1p(sh4.gradientEnergy));
  const fineToCoarse = Math.log((sh1.laplacianVariance + 1) / (sh2.laplacianVariance + 1));
  put(fineToCoarse);
  put(Math.log((sh2.laplacianVariance + 1) / (sh4.laplacianVariance + 1)));
  put(sh1.equalPairs);
  put(no1.sigmaFlat / 10);
  put(no1.sigmaMedian / 10);
  put(no2.sigmaFlat / 10);
  putLog(bl.gridRatioH);
  putLog(bl.gridRatioV);
  putLog(bl.bestPhaseRatio);
  putLog(px.strength);
  put(px.period / 16);
  put(px.duplicateFraction);
  put(ov1.overshoot);
  put(ov2.overshoot);
  put(ov1.edgeDensity);
  for (const v of ex.clipHigh) put(v);
  for (const v of ex.clipLow) put(v);
  put(co.mean / 255);
  put(co.rms / 255);
  put(co.p1 / 255);
  put(co.p5 / 255);
  put(co.p95 / 255);
  put(co.p99 / 255);
  put(cl.colourfulness / 100);
  put(cl.meanRg / 100);
  put(cl.meanYb / 100);
  put(cl.castRg / 100);
  put(cl.castYb / 100);
  put(cl.saturationMean);
  put(cl.saturationStd);
  put(cl.saturationHigh);
  put(po.lumaOccupancy);
  put(po.channelOccupancy);
  put(po.combGaps);
  for (const m of [ms1, ms2]) {
    put(m.shape);
    put(m.variance);
    for (const p of m.pairs) {
      put(p.shape);
      put(p.mean);
      put(p.variance);
    }
  }
  put(bd.bandFraction);
  put(bd.bandStep / 16);
  put(bd.stepRate);
  put(bd.flatFraction);

  const castStrength = Math.hypot(cl.castRg, cl.castYb);
  const measures: SignalMeasures = {
    width: w,
    height: h,
    sharpness: sh1.laplacianVariance,
    fineToCoarse: Number.isFinite(fineToCoarse) ? fineToCoarse : 0,
    noiseSigma: no1.sigmaFlat,
    noiseScaleRatio: no1.sigmaFlat > 1e-6 ? no2.sigmaFlat / no1.sigmaFlat : 0,
    blockiness: 0.5 * (bl.gridRatioH + bl.gridRatioV),
    pixelationStrength: px.strength,
    pixelationCell: px.period,
    clippedHighlights: ex.lumaClipHigh,
    clippedShadows: ex.lumaClipLow,
    brightness: co.mean,
    contrastRms: co.rms,
    lumaRange: co.p99 - co.p1,
    colourfulness: cl.colourfulness,
    castRg: cl.castRg,
    castYb: cl.castYb,
    castStrength,
    castDirection: castDirection(cl.castRg, cl.castYb),
    saturation: cl.saturationMean,
    toneOccupancy: po.channelOccupancy,
    overshoot: ov1.overshoot,
    bandFraction: bd.bandFraction,
    bandStep: bd.bandStep,
  };
  return { features: f, measures };
}
