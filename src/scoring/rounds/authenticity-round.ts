// Authenticity round: real-scene and real-artwork anchors against generation-artifact anchors; the
// share of probability on the real side, at the pack's temperature, is the MOS on 0–5.
import type { ClipRounds } from '../../model/clip/clip-input.js';
import { softmax } from '../levels.js';
import { MOS_MAX, type Finding } from '../score-result.js';
import { cosine, logitsAroundMos, percent } from './level-logits.js';
import type { RoundOutput } from './round.js';

export interface AuthenticityAnchors {
  real: readonly Float32Array[];
  artifact: readonly Float32Array[];
}

export function authenticityRound(image: Float32Array, anchors: AuthenticityAnchors, config: ClipRounds['authenticity']): RoundOutput {
  const real = anchors.real.map((a) => cosine(image, a));
  const artifact = anchors.artifact.map((a) => cosine(image, a));
  const p = softmax([...real, ...artifact].map((s) => s / config.temperature));
  const pReal = p.slice(0, real.length).reduce((s, v) => s + v, 0);
  const mos = MOS_MAX * pReal;

  const argmax = (values: number[]): number => values.indexOf(Math.max(...values));
  let finding: Finding;
  if (pReal < 0.5) {
    const closest = config.artifact[argmax(artifact)]!;
    finding = {
      aspect: 'authenticity',
      code: 'generation-artifacts',
      text: `resembles "${closest}" (${percent(1 - pReal)} artifact)`,
      severity: pReal < 0.2 ? 'major' : 'minor',
    };
  } else {
    const closest = config.real[argmax(real)]!;
    finding = { aspect: 'authenticity', code: 'looks-authentic', text: `closest to "${closest}" (${percent(pReal)} real)`, severity: 'info' };
  }
  return { aspect: 'authenticity', logits: logitsAroundMos(mos, config.spread), mos, findings: [finding], evidence: [...real, ...artifact] };
}
