// The M3 predictor of a CLIP-family pack trained by `agiqa train`: the image embedding as one token and
// the three zero-shot rounds (layout clip/1, src/model/predictor-layout.ts) in, MOS per aspect out.
// The level logits stay the rounds' own; the predictor replaces the MOS of each aspect it judged.
import { agiqaError } from '../errors/index.js';
import type { LoadedPack } from '../model/packs.js';
import { PredictorModel } from '../model/predictor.js';
import { roundRows, type RoundEvidence } from '../model/predictor-features.js';
import { clipRoundEvidence } from '../model/predictor-layout.js';
import type { Aspect } from './score-result.js';
import type { AspectPrediction, RoundOutput, RoundsPredictor } from './rounds/round.js';

export class ClipRoundsPredictor implements RoundsPredictor {
  private constructor(
    private readonly predictor: PredictorModel,
    private readonly anchors: { realCount: number; maxPhrases: number },
  ) {}

  /** Throws AGQ_ERR_PREDICTOR_INVALID when pack.json's predictor is not a clip/1 one, and the model's load errors. */
  static async load(pack: LoadedPack, threads: number): Promise<ClipRoundsPredictor> {
    const { manifest } = pack;
    const entry = manifest.predictor;
    if (entry === null || manifest.input.kind !== 'clip') throw agiqaError('AGQ_ERR_PREDICTOR_INVALID', { pack: manifest.name, detail: 'a CLIP pack with a predictor entry is needed' });
    if (entry.features?.version !== 'clip/1' || entry.tokenGrid !== 1) {
      throw agiqaError('AGQ_ERR_PREDICTOR_INVALID', {
        pack: manifest.name,
        detail: `predictor.features.version is ${entry.features?.version ?? 'absent'} with tokenGrid ${entry.tokenGrid}; a CLIP pack reads layout clip/1 with one image token`,
      });
    }
    const path = pack.files.get(entry.file);
    if (path === undefined) throw agiqaError('AGQ_ERR_PACK_FILE_MISSING', { pack: manifest.name, file: entry.file });
    const predictor = await PredictorModel.load(path, entry, { threads, pack: manifest.name });
    const rounds = manifest.input.rounds;
    return new ClipRoundsPredictor(predictor, { realCount: rounds.authenticity.real.length, maxPhrases: rounds.correspondence.maxPhrases });
  }

  async predict(input: { image: Float32Array; rounds: readonly RoundOutput[] }): Promise<Partial<Record<Aspect, AspectPrediction>>> {
    if (input.image.length !== this.predictor.manifest.tokenDim) {
      throw agiqaError('AGQ_ERR_PREDICTOR_INVALID', { pack: 'clip', detail: `the image embedding has ${input.image.length} values but the predictor was trained on ${this.predictor.manifest.tokenDim}` });
    }
    const byAspect: Partial<Record<Aspect, RoundEvidence>> = {};
    for (const round of input.rounds) byAspect[round.aspect] = clipRoundEvidence(round, this.anchors);
    const { rounds, mask } = roundRows(byAspect, this.predictor.manifest.evidenceWidth);
    const [predicted] = await this.predictor.predict([{ imageTokens: input.image, rounds, roundMask: mask }]);
    const out: Partial<Record<Aspect, AspectPrediction>> = {};
    const learned = this.predictor.manifest.aspects;
    for (const round of input.rounds) {
      if (learned !== undefined && !learned.includes(round.aspect)) continue;
      const mos = predicted!.aspects[round.aspect];
      if (mos !== undefined) out[round.aspect] = { logits: round.logits, mos };
    }
    return out;
  }

  async close(): Promise<void> {
    await this.predictor.close();
  }
}
