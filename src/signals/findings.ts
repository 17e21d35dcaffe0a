// Human-readable findings from the signal measures (thresholds: docs/signals.md).
import type { SignalMeasures } from './compute.js';

export interface SignalFinding {
  code: string;
  text: string;
  severity: 'info' | 'minor' | 'major';
}

export function signalFindings(m: SignalMeasures): SignalFinding[] {
  void m;
  return [];
}
