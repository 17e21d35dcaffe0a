// Human-readable findings from the signal measures. Thresholds, score gates and dropped codes are
// calibrated to the lite quality model (issue 16; training/lite/calibrate-findings.ts, docs/signals.md):
// an image carrying a finding scores below its clean reference in ≥ 90 % of the validation pairs
// (test/signals/findings-calibration.test.ts pins it). The calibrated values live in the generated
// findings-calibration.ts, which the recipe (bash training/lite/run.sh) rewrites with each model.
import type { SignalMeasures } from './compute.js';
import { FINDINGS_CALIBRATION } from './findings-calibration.js';

export interface SignalFinding {
  /** Stable identifier, e.g. `blur`, `noise`, `jpeg-blocking`. */
  code: string;
  /** A short sentence for people, with the number behind it where that helps. */
  text: string;
  severity: 'info' | 'minor' | 'major';
}

/**
 * The thresholds before calibration (set by eye on photographs with synthetic distortions, docs/signals.md):
 * the loose end that training/lite/calibrate-findings.ts walks from toward stricter values, per finding.
 */
export const UNCALIBRATED_THRESHOLDS = {
  blurFineToCoarseMinor: -1.5,
  blurFineToCoarseMajor: -2.0,
  blurSharpnessMajor: 20,
  noiseSigmaMinor: 3,
  noiseSigmaMajor: 6,
  noiseScaleRatioMax: 0.75,
  blockinessMinor: 1.25,
  blockinessMajor: 1.5,
  pixelationStrength: 6,
  highlightsMinor: 0.03,
  highlightsMajor: 0.1,
  shadowsMinor: 0.08,
  shadowsMajor: 0.2,
  lumaRangeMinor: 110,
  lumaRangeMajor: 80,
  darkMinor: 45,
  darkMajor: 30,
  brightMinor: 200,
  brightMajor: 220,
  toneOccupancyMinor: 0.6,
  toneOccupancyMajor: 0.25,
  overshootMinor: 0.9,
  overshootMajor: 1.2,
  oversharpSharpnessMinor: 2500,
  oversharpSharpnessMajor: 5000,
  castInfo: 12,
  castMinor: 25,
  saturationHigh: 0.85,
  bandingMinor: 0.5,
  bandingMajor: 0.8,
  // JPEG's flat 8×8 blocks step by ≥ 2 levels too: banding is only named where the grid is absent.
  bandingBlockinessMax: 1.15,
} as const;

export type FindingThresholds = { readonly [K in keyof typeof UNCALIBRATED_THRESHOLDS]: number };

/** Calibrated thresholds (see docs/signals.md); exported so tests and docs can cite them. Values with
 * many decimals are the calibration's interpolation steps, kept exact so the pinned pairs reproduce. */
export const FINDING_THRESHOLDS: FindingThresholds = { ...UNCALIBRATED_THRESHOLDS, ...FINDINGS_CALIBRATION.thresholds };

/**
 * Findings the calibration could not make agree with the quality model (at no gate or threshold did an
 * image carrying them score below its clean reference in ≥ 90 % of the validation pairs): never reported.
 * Their measures still feed the model and `measures`.
 */
export const DROPPED_FINDINGS: readonly string[] = FINDINGS_CALIBRATION.dropped;

/**
 * Per finding code, the highest quality MOS (0–5) at which it is still reported: above it the model judged
 * the picture good, and a finding would contradict the score (issue 16: "strong blur" on a 4.09 image).
 * Chosen with the thresholds by training/lite/calibrate-findings.ts; a code without a gate always reports.
 */
export const FINDING_SCORE_GATES: Readonly<Record<string, number>> = FINDINGS_CALIBRATION.gates;

/** Drops the findings whose score gate the quality MOS exceeds (see FINDING_SCORE_GATES). */
export function gateFindings<F extends { code: string }>(findings: readonly F[], qualityMos: number, gates: Readonly<Record<string, number>> = FINDING_SCORE_GATES): F[] {
  return findings.filter((f) => !(f.code in gates) || qualityMos <= gates[f.code]!);
}

const pct = (f: number): string => `${Math.round(f * 100)}%`;

/**
 * Findings for one image's measures, most severe first. Never throws. `thresholds` and `dropped`
 * exist for the calibration (training/lite/calibrate-findings.ts); callers use the defaults.
 */
export function signalFindings(
  m: SignalMeasures,
  thresholds: FindingThresholds = FINDING_THRESHOLDS,
  dropped: readonly string[] = DROPPED_FINDINGS,
): SignalFinding[] {
  const t = thresholds;
  const out: SignalFinding[] = [];
  const add = (code: string, severity: SignalFinding['severity'], text: string): void => {
    if (!dropped.includes(code)) out.push({ code, severity, text });
  };
  const hasContent = m.contrastRms >= 10;
  const pixelated = m.pixelationCell >= 2 && m.pixelationStrength >= t.pixelationStrength;

  if (hasContent && !pixelated) {
    // Almost no fine detail counts as strong blur only when fine scales also lost energy to coarse
    // ones; flat graphics have little detail at every scale.
    if (m.fineToCoarse <= t.blurFineToCoarseMajor || (m.sharpness < t.blurSharpnessMajor && m.fineToCoarse <= -1)) {
      add('blur', 'major', 'strong blur');
    } else if (m.fineToCoarse <= t.blurFineToCoarseMinor) {
      add('blur', 'minor', 'slightly soft (mild blur)');
    }
  }
  // Grain must fade at the 2× scale; fine texture (grass, gravel) does not and is not noise.
  if (m.noiseSigma >= t.noiseSigmaMinor && m.noiseScaleRatio <= t.noiseScaleRatioMax) {
    const sigma = `σ≈${Math.round(m.noiseSigma)}`;
    if (m.noiseSigma >= t.noiseSigmaMajor) add('noise', 'major', `visible sensor-like noise (${sigma})`);
    else add('noise', 'minor', `some noise (${sigma})`);
  }
  if (pixelated) {
    add('pixelation', m.pixelationCell >= 4 ? 'major' : 'minor', `pixelated (≈${m.pixelationCell} px blocks)`);
  } else if (m.blockiness >= t.blockinessMajor) {
    add('jpeg-blocking', 'major', 'JPEG blocking');
  } else if (m.blockiness >= t.blockinessMinor) {
    add('jpeg-blocking', 'minor', 'faint JPEG blocking');
  }
  if (m.clippedHighlights >= t.highlightsMinor) {
    add('clipped-highlights', m.clippedHighlights >= t.highlightsMajor ? 'major' : 'minor', `blown highlights (${pct(m.clippedHighlights)} clipped)`);
  }
  if (m.clippedShadows >= t.shadowsMinor) {
    add('clipped-shadows', m.clippedShadows >= t.shadowsMajor ? 'major' : 'minor', `crushed shadows (${pct(m.clippedShadows)} clipped)`);
  }
  if (m.brightness < t.darkMinor) {
    add('underexposed', m.brightness < t.darkMajor ? 'major' : 'minor', `underexposed (mean luminance ${Math.round(m.brightness)}/255)`);
  } else if (m.brightness > t.brightMinor) {
    add('overexposed', m.brightness > t.brightMajor ? 'major' : 'minor', `overexposed (mean luminance ${Math.round(m.brightness)}/255)`);
  }
  if (m.lumaRange < t.lumaRangeMinor && m.contrastRms > 0) {
    add('low-contrast', m.lumaRange < t.lumaRangeMajor ? 'major' : 'minor', m.lumaRange < t.lumaRangeMajor ? 'washed-out contrast' : 'low contrast');
  }
  if (m.toneOccupancy < t.toneOccupancyMinor) {
    add('posterisation', m.toneOccupancy < t.toneOccupancyMajor ? 'major' : 'minor', m.toneOccupancy < t.toneOccupancyMajor ? 'posterised gradients (banding)' : 'missing tones (possible banding)');
  } else if (!pixelated && m.blockiness < t.bandingBlockinessMax && m.bandFraction >= t.bandingMinor) {
    // Smooth gradients that climb in steps of several levels (a VAE's contoured sky, an 8-bit re-save).
    const major = m.bandFraction >= t.bandingMajor;
    add('banding', major ? 'major' : 'minor', `${major ? 'strong ' : ''}banding in smooth gradients (steps of ≈${Math.round(m.bandStep)} levels)`);
  }
  if (m.noiseSigma < t.noiseSigmaMinor && m.overshoot >= t.overshootMinor && m.sharpness >= t.oversharpSharpnessMinor) {
    const major = m.overshoot >= t.overshootMajor && m.sharpness >= t.oversharpSharpnessMajor;
    add('oversharpened', major ? 'major' : 'minor', major ? 'oversharpened edges (halos)' : 'slightly oversharpened edges');
  }
  // A warm or cool subject moves the near-neutral pixels too, so a cast is never more than minor.
  if (m.castStrength >= t.castInfo) {
    add('colour-cast', m.castStrength >= t.castMinor ? 'minor' : 'info', `${m.castStrength >= t.castMinor ? 'strong ' : ''}colour cast (toward ${m.castDirection})`);
  }
  if (m.saturation >= t.saturationHigh) add('oversaturated', 'minor', `oversaturated colours (mean saturation ${m.saturation.toFixed(2)})`);

  const rank = { major: 0, minor: 1, info: 2 } as const;
  return out.sort((a, b) => rank[a.severity] - rank[b.severity]);
}
