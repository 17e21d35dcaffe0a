// Chooses the in-thread scorer for a pack by the kind of input it takes. The scorers are imported
// when a pack needs one: the server's main thread (which only asks scoresBatchesTogether) and a lite
// worker then never load transformers.js and onnxruntime they do not use (~35 MB each).
import { agiqaError } from '../errors/index.js';
import type { ImageLimits } from '../image/index.js';
import type { ObjectDetector } from '../model/object-detector.js';
import { DEFAULT_PACK, loadPack, type LoadedPack } from '../model/packs.js';
import type { ScoreResult } from './score-result.js';
import type { ScoreRequest } from './scorer.js';

export interface PackScorer {
  score(request: ScoreRequest): Promise<ScoreResult>;
  /** Present when the pack gains from scoring a batch in one pass (a shared prompt encoded once). */
  scoreBatch?(requests: ScoreRequest[]): Promise<ScoreResult[]>;
  close(): Promise<void>;
}

/** The embedded lite pack's object detector (null if a pack named lite carries none). Throws loadPack's and the detector's load errors. */
export async function liteDetector(threads: number): Promise<ObjectDetector | undefined> {
  const { ObjectDetector } = await import('../model/object-detector.js');
  return (await ObjectDetector.load(await loadPack(DEFAULT_PACK), threads)) ?? undefined;
}

/** Whether a batch should go to one worker as one job rather than be spread over the workers. */
export function scoresBatchesTogether(kind: LoadedPack['manifest']['input']['kind']): boolean {
  return kind === 'clip';
}

export interface PackScorerOptions {
  /** onnxruntime intra-op threads of the pack's models. */
  threads: number;
  limits?: ImageLimits | undefined;
  /** The object detector's threads (default `threads`; see detectorThreads: one when several workers run). */
  detectorThreads?: number | undefined;
}

export async function createPackScorer(pack: LoadedPack, options: PackScorerOptions): Promise<PackScorer> {
  switch (pack.manifest.input.kind) {
    case 'lite-crops':
      return (await import('./lite-scorer.js')).LiteScorer.create(pack, options);
    case 'clip': {
      // a pack trained by `agiqa train` carries an M3 predictor over the rounds
      const predictor = pack.manifest.predictor === null ? undefined : await (await import('./clip-rounds-predictor.js')).ClipRoundsPredictor.load(pack, options.threads);
      // The object checks beside the zero-shot correspondence use the detector of the lite pack, which every install has.
      const detector = await liteDetector(options.detectorThreads ?? options.threads);
      try {
        return await (await import('./clip-scorer.js')).ClipScorer.create(pack, { ...options, predictor, detector });
      } catch (error) {
        await Promise.all([detector?.close(), predictor?.close()]);
        throw error;
      }
    }
    case 'judge':
      // createScorer runs judge packs in the calling thread; a worker never receives one.
      throw agiqaError('AGQ_ERR_PACK_INVALID', { pack: pack.manifest.name, issues: ['a judge pack is scored by createScorer in the calling thread, not in a worker'] });
  }
}
