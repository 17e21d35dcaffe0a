// The versioned feature/token layouts the M3 predictor reads (pack.json `predictor.features.version`).
// Training and scoring build rows with these functions only, so a pack sees what it learned on.
//
// Every round row is [5 level values; evidence…] padded with zeros to the predictor's evidenceWidth.
// - lite/1   image tokens: the lite quality model's 7×7 spatial map, mean over crops, pooled to 3×3.
//            quality round: the model's 5 level logits; evidence: the classical signals.
// - clip/1   image tokens: one token, the pack's L2-normalised image embedding.
//            every round: its 5 zero-shot level logits; evidence (5 columns, see CLIP_COLUMNS):
//            quality the cosines to the 5 level anchors; correspondence the prompt cosine and the
//            phrases' min, mean and share of maxPhrases; authenticity the mean and max cosine to the
//            real and to the artifact anchors.
// - judge/1  image tokens: the fast pack's (lite-spatial or clip-image-embedding, named in the layout).
//            every round: ln of the judge's 5 level probabilities (floored at 1e-4); evidence: the
//            distribution's entropy (nats), its expected MOS, 1 when the server gave log-probabilities
//            (else the word alone, one-hot), then the description's embedding by the fast pack's
//            text encoder when it has one (CLIP), else nothing.
import { LEVELS, type Aspect } from './aspects.js';
import type { RoundEvidence } from './predictor-features.js';

export const CLIP_COLUMNS: Record<Aspect, string[]> = {
  quality: LEVELS.map((level) => `cos_${level}_anchor`),
  correspondence: ['cos_prompt', 'cos_phrase_min', 'cos_phrase_mean', 'phrase_share'],
  authenticity: ['cos_real_mean', 'cos_real_max', 'cos_artifact_mean', 'cos_artifact_max'],
};
export const CLIP_EVIDENCE_WIDTH = 5;

/** A CLIP round as the scorer's rounds give it (scoring/rounds/round.ts RoundOutput). */
export interface ClipRound {
  aspect: Aspect;
  logits: readonly number[];
  evidence: readonly number[];
}

const mean = (v: readonly number[]) => (v.length === 0 ? 0 : v.reduce((a, b) => a + b, 0) / v.length);
const max = (v: readonly number[]) => (v.length === 0 ? 0 : Math.max(...v));
const min = (v: readonly number[]) => (v.length === 0 ? 0 : Math.min(...v));

/**
 * The clip/1 evidence of one round. `realCount` is the number of real anchors (authenticity evidence
 * is [...real, ...artifact]); `maxPhrases` the pack's phrase limit. Fixed width whatever the prompt.
 */
export function clipRoundEvidence(round: ClipRound, pack: { realCount: number; maxPhrases: number }): RoundEvidence {
  const e = round.evidence;
  let evidence: number[];
  switch (round.aspect) {
    case 'quality':
      evidence = [...e.slice(0, LEVELS.length)];
      break;
    case 'correspondence': {
      const [prompt = 0, ...phrases] = e;
      // without phrases the prompt stands for them, so the columns mean the same thing in every row
      evidence = [prompt, phrases.length > 0 ? min(phrases) : prompt, phrases.length > 0 ? mean(phrases) : prompt, phrases.length / pack.maxPhrases];
      break;
    }
    case 'authenticity': {
      const real = e.slice(0, pack.realCount);
      const artifact = e.slice(pack.realCount);
      evidence = [mean(real), max(real), mean(artifact), max(artifact)];
      break;
    }
  }
  return { logits: [...round.logits], evidence };
}

export const JUDGE_PROBABILITY_FLOOR = 1e-4;
export const JUDGE_BASE_COLUMNS = ['entropy', 'expected_mos', 'logprobs_given'];

/** A judge's answer for one aspect, as the features need it. */
export interface JudgeRoundAnswer {
  /** Probabilities over bad…excellent (sum 1), from the round-2 top_logprobs; null without them. */
  probabilities: readonly number[] | null;
  /** The level word's index when the answer held one. */
  levelIndex: number | null;
}

/** The judge/1 row of one round, or null when the judge gave no level (the round is then absent). */
export function judgeRoundEvidence(answer: JudgeRoundAnswer, descriptionEmbedding: ArrayLike<number> | null): RoundEvidence | null {
  let probabilities = answer.probabilities;
  const given = probabilities !== null;
  if (probabilities === null) {
    if (answer.levelIndex === null) return null;
    probabilities = LEVELS.map((_, i) => (i === answer.levelIndex ? 1 : 0));
  }
  const entropy = probabilities.reduce((s, p) => (p > 0 ? s - p * Math.log(p) : s), 0);
  const expected = probabilities.reduce((s, p, i) => s + p * (i + 0.5), 0);
  const evidence = [entropy, expected, given ? 1 : 0, ...Array.from(descriptionEmbedding ?? [])];
  return { logits: probabilities.map((p) => Math.log(Math.max(p, JUDGE_PROBABILITY_FLOOR))), evidence };
}

/** Column names of a judge/1 round given the description embedding's width (0 without one). */
export function judgeColumns(embeddingWidth: number): string[] {
  return [...JUDGE_BASE_COLUMNS, ...Array.from({ length: embeddingWidth }, (_, i) => `description_${i}`)];
}
