// clip/1 features for `agiqa train` on a CLIP-family pack: the image embedding as one token and the
// three zero-shot rounds (the prompt from the dataset, else the one embedded in the file), computed
// by the pack's own scorer in this thread, so training sees exactly what scoring computes.
import { readFile } from 'node:fs/promises';
import { isAgiqaError } from '../errors/index.js';
import type { Aspect } from '../model/aspects.js';
import type { LoadedPack } from '../model/packs.js';
import type { RoundEvidence } from '../model/predictor-features.js';
import { CLIP_COLUMNS, CLIP_EVIDENCE_WIDTH, clipRoundEvidence } from '../model/predictor-layout.js';
import { ClipScorer } from '../scoring/clip-scorer.js';
import type { FeatureSource, Skipped, TrainingFeatures } from './training-features.js';

export function clipFeatureSource(pack: LoadedPack, options: { threads: number }): FeatureSource {
  const input = pack.manifest.input;
  if (input.kind !== 'clip') throw new TypeError(`clipFeatureSource needs a clip pack, got ${input.kind}`);
  const anchors = { realCount: input.rounds.authenticity.real.length, maxPhrases: input.rounds.correspondence.maxPhrases };
  return {
    tokenGrid: 1,
    evidenceWidth: CLIP_EVIDENCE_WIDTH,
    evidence: { quality: 'clip-similarities', correspondence: 'clip-similarities', authenticity: 'clip-similarities' },
    layout: { version: 'clip/1', imageTokens: { source: 'clip-image-embedding' }, rounds: CLIP_COLUMNS },
    async extract(items, onProgress) {
      // the zero-shot rounds only: a base pack that already has a predictor is retrained from its rounds
      const zeroShot: LoadedPack = { ...pack, manifest: { ...pack.manifest, predictor: null } };
      const scorer = await ClipScorer.create(zeroShot, { threads: options.threads });
      const features = new Map<string, TrainingFeatures>();
      const skipped: Skipped[] = [];
      onProgress?.(0, items.length);
      try {
        for (const [i, item] of items.entries()) {
          try {
            const image = await readFile(item.path!);
            const { results, rounds } = await scorer.scoreWithRounds([{ image, name: item.name, prompt: item.prompt ?? undefined }]);
            const byAspect: Partial<Record<Aspect, RoundEvidence>> = {};
            for (const round of rounds[0]!.outputs) byAspect[round.aspect] = clipRoundEvidence(round, anchors);
            const head: Partial<Record<Aspect, number>> = {};
            for (const [aspect, result] of Object.entries(results[0]!.aspects)) if (result.mos !== null) head[aspect as Aspect] = result.mos;
            features.set(item.name, { tokens: rounds[0]!.image, rounds: byAspect, head, cached: false });
          } catch (error) {
            if (!isAgiqaError(error)) throw error;
            skipped.push({ name: item.name, reason: `${error.message} [${error.code}]` });
          }
          onProgress?.(i + 1, items.length);
        }
      } finally {
        await scorer.close();
      }
      return { features, skipped };
    },
  };
}
