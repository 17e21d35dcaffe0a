// Public API of the classical no-reference quality signals (inputs of the lite pack's quality
// model and the evidence behind human-readable findings).
export { computeSignals, SIGNAL_FEATURE_NAMES, SIGNALS_VERSION } from './compute.js';
export type { SignalMeasures, SignalReport } from './compute.js';
export { DROPPED_FINDINGS, FINDING_SCORE_GATES, FINDING_THRESHOLDS, gateFindings, signalFindings, UNCALIBRATED_THRESHOLDS, type FindingThresholds } from './findings.js';
export type { SignalFinding } from './findings.js';
export type { SignalImage } from './types.js';
export { boxColour, nameColour, srgbToLab, COLOUR_NAMES, type BoxColour, type ColourName } from './box-colour.js';
