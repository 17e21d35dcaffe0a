// Correspondence round: how well the image shows its prompt. The whole prompt's similarity and each
// noun phrase's are calibrated onto 0–5 (pack.json), blended, and the weakest phrase is named.
import type { ClipRounds } from '../../model/clip/clip-input.js';
import type { Finding } from '../score-result.js';
import { calibrateSimilarity, cosine, logitsAroundMos } from './level-logits.js';
import type { RoundOutput } from './round.js';

export interface EmbeddedPhrase {
  text: string;
  embedding: Float32Array;
}

export interface CorrespondenceInput {
  image: Float32Array;
  prompt: Float32Array;
  phrases: readonly EmbeddedPhrase[];
  /** Tokens of the prompt when the text tower had to cut it, else null. */
  truncation: { tokens: number; limit: number } | null;
}

export function correspondenceRound(input: CorrespondenceInput, config: ClipRounds['correspondence']): RoundOutput {
  const promptSimilarity = cosine(input.image, input.prompt);
  const promptMos = calibrateSimilarity(promptSimilarity, config.similarity);
  const scored = input.phrases.map((phrase) => {
    const similarity = cosine(input.image, phrase.embedding);
    return { text: phrase.text, similarity, mos: calibrateSimilarity(similarity, config.similarity) };
  });
  const phraseMean = scored.length === 0 ? promptMos : scored.reduce((s, p) => s + p.mos, 0) / scored.length;
  const weight = scored.length === 0 ? 0 : config.phraseWeight;
  const mos = (1 - weight) * promptMos + weight * phraseMean;

  const findings: Finding[] = [];
  const weakest = scored.reduce<(typeof scored)[number] | null>((min, p) => (min === null || p.mos < min.mos ? p : min), null);
  if (weakest === null) {
    findings.push({ aspect: 'correspondence', code: 'prompt-whole-only', text: 'no noun phrases found in the prompt; judged on the whole prompt', severity: 'info' });
  } else if (weakest.mos < config.weakPhraseMos) {
    findings.push({
      aspect: 'correspondence',
      code: 'prompt-part-missing',
      text: `'${weakest.text}' barely present`,
      severity: weakest.mos < config.weakPhraseMos / 2 ? 'major' : 'minor',
    });
  } else {
    findings.push({
      aspect: 'correspondence',
      code: 'prompt-parts-present',
      text: scored.length === 1 ? `'${weakest.text}' is present` : `all ${scored.length} parts of the prompt are present; weakest: '${weakest.text}'`,
      severity: 'info',
    });
  }
  if (input.truncation !== null) {
    findings.push({
      aspect: 'correspondence',
      code: 'prompt-truncated',
      text: `prompt truncated to the text encoder's limit of ${input.truncation.limit} tokens (it has ${input.truncation.tokens}); its noun phrases were still checked one by one`,
      severity: 'minor',
    });
  }
  return {
    aspect: 'correspondence',
    logits: logitsAroundMos(mos, config.spread),
    mos,
    findings,
    evidence: [promptSimilarity, ...scored.map((p) => p.similarity)],
  };
}
