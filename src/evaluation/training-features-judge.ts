// judge/1 features for `agiqa train --pack <judge pack>`: each aspect's round from the judge (level
// distribution, its entropy, expected MOS, and the description embedded by the fast pack's text
// encoder where it has one) and image tokens from a fast pack (lite or CLIP). The judge's answers are
// cached under $AGIQA_HOME/cache/judge-labels/, so a second run asks the model server nothing.
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { isAgiqaError } from '../errors/index.js';
import { decodeImage } from '../image/index.js';
import type { Aspect } from '../model/aspects.js';
import { agiqaHome, type LoadedPack } from '../model/packs.js';
import type { RoundEvidence } from '../model/predictor-features.js';
import { judgeColumns, judgeRoundEvidence, JUDGE_BASE_COLUMNS } from '../model/predictor-layout.js';
import type { FeatureLayout } from '../model/predictor-manifest.js';
import { loadImageTokenEncoder } from '../scoring/image-tokens.js';
import { judgeTeacher } from './judge-teacher.js';
import { LabelCache, labelImages, type LabelProgress } from './teacher-labels.js';
import type { FeatureSource, Skipped, TrainingFeatures } from './training-features.js';

export interface JudgeFeatureOptions {
  home?: string | undefined;
  threads?: number | undefined;
  /** Images asked at once (default: the judge pack's server concurrency). */
  concurrency?: number | undefined;
  onLabel?: ((progress: LabelProgress) => void) | undefined;
}

export function judgeFeatureSource(judge: LoadedPack, imagePack: LoadedPack, options: JudgeFeatureOptions = {}): FeatureSource {
  const input = judge.manifest.input;
  if (input.kind !== 'judge') throw new TypeError(`judgeFeatureSource needs a judge pack, got ${input.kind}`);
  const aspects = judge.manifest.aspects;
  let embeddingWidth = 0;
  const layout = (): FeatureLayout => ({
    version: 'judge/1',
    imageTokens: { source: imagePack.manifest.input.kind === 'clip' ? 'clip-image-embedding' : 'lite-spatial', pack: { name: imagePack.manifest.name, version: imagePack.manifest.version } },
    rounds: Object.fromEntries(aspects.map((a) => [a, judgeColumns(embeddingWidth)])),
  });
  return {
    tokenGrid: imagePack.manifest.input.kind === 'clip' ? 1 : 3,
    get evidenceWidth() {
      return JUDGE_BASE_COLUMNS.length + embeddingWidth;
    },
    evidence: Object.fromEntries(aspects.map((a) => [a, 'judge'])),
    get layout() {
      return layout();
    },
    async extract(items, onProgress) {
      const teacher = judgeTeacher(judge);
      const cache = await LabelCache.open(join(agiqaHome(options.home), 'cache', 'judge-labels', `${judge.manifest.name}.jsonl`));
      const labelled = await labelImages(
        items.map((item) => ({ name: item.name, path: item.path!, prompt: item.prompt })),
        teacher,
        cache,
        { concurrency: options.concurrency ?? input.server.concurrency, aspects, onProgress: options.onLabel },
      );
      const skipped: Skipped[] = [...labelled.failed];
      const features = new Map<string, TrainingFeatures>();
      const encoder = await loadImageTokenEncoder(imagePack, options.threads ?? availableParallelism());
      onProgress?.(0, items.length);
      try {
        for (const [i, item] of items.entries()) {
          const answers = labelled.labels.get(item.name);
          if (answers !== undefined) {
            try {
              const image = await decodeImage(await readFile(item.path!), item.name);
              const tokens = await encoder.encode(image);
              const described = aspects.filter((a) => answers[a]?.description);
              const embeddings = described.length > 0 ? await encoder.embedTexts(described.map((a) => answers[a]!.description!)) : null;
              if (embeddings !== null && embeddings.length > 0) embeddingWidth = embeddings[0]!.length;
              const rounds: Partial<Record<Aspect, RoundEvidence>> = {};
              const head: Partial<Record<Aspect, number>> = {};
              for (const aspect of aspects) {
                const answer = answers[aspect];
                if (answer === undefined || answer.mos === null) continue;
                const embedding = embeddings?.[described.indexOf(aspect)] ?? (embeddingWidth > 0 ? new Float32Array(embeddingWidth) : null);
                const row = judgeRoundEvidence(answer, embedding);
                if (row === null) continue;
                rounds[aspect] = row;
                head[aspect] = answer.mos;
              }
              features.set(item.name, { tokens, rounds, head, cached: labelled.fromCache.has(item.name) });
            } catch (error) {
              if (!isAgiqaError(error)) throw error;
              skipped.push({ name: item.name, reason: `${error.message} [${error.code}]` });
            }
          }
          onProgress?.(i + 1, items.length);
        }
      } finally {
        await Promise.all([encoder.close(), teacher.close()]);
      }
      return { features, skipped };
    },
  };
}
