// Runs a pack's M3 predictor (exported from training/predictor/) with onnxruntime: image tokens and
// one token per aspect round in, MOS per aspect and overall out. Batches share one session run.
import { agiqaError } from '../errors/index.js';
import { ASPECTS, LEVELS, type Aspect } from './aspects.js';
import { OnnxModel } from './onnx-session.js';
import type { PredictorManifest } from './predictor-manifest.js';

export interface PredictorItem {
  /** [tokens, tokenDim] from poolSpatialTokens. */
  imageTokens: Float32Array;
  /** [R, 5 + evidenceWidth] and [R] from roundRows. */
  rounds: Float32Array;
  roundMask: Float32Array;
}

export interface PredictedMos {
  aspects: Partial<Record<Aspect, number>>;
  overall: number;
}

export const PREDICTOR_INPUTS = ['image_tokens', 'rounds', 'round_mask'] as const;

export class PredictorModel {
  private constructor(
    private readonly model: OnnxModel,
    readonly manifest: PredictorManifest,
  ) {}

  get tokens(): number {
    return this.manifest.tokenGrid * this.manifest.tokenGrid;
  }

  get roundWidth(): number {
    return LEVELS.length + this.manifest.evidenceWidth;
  }

  /** Loads the ONNX file; throws AGQ_ERR_MODEL_LOAD, or AGQ_ERR_PREDICTOR_INVALID when its interface is not the predictor's. */
  static async load(path: string, manifest: PredictorManifest, options: { threads: number; pack: string }): Promise<PredictorModel> {
    const model = await OnnxModel.load(path, { threads: options.threads, label: `${options.pack}/${manifest.file}`, pack: options.pack, file: manifest.file });
    const missing = PREDICTOR_INPUTS.filter((name) => !model.inputNames.includes(name));
    const problems: string[] = [];
    if (missing.length > 0) problems.push(`the graph lacks input(s) ${missing.join(', ')} (it takes ${model.inputNames.join(', ')})`);
    if (!model.outputNames.includes('mos')) problems.push(`the graph has no "mos" output (it gives ${model.outputNames.join(', ')})`);
    if (manifest.outputs.length !== ASPECTS.length + 1) problems.push(`outputs lists ${manifest.outputs.length} columns, expected ${ASPECTS.length + 1} (${ASPECTS.join(', ')}, overall)`);
    if (problems.length > 0) {
      await model.close();
      throw agiqaError('AGQ_ERR_PREDICTOR_INVALID', { pack: options.pack, detail: problems.join('; ') });
    }
    return new PredictorModel(model, manifest);
  }

  /** Raw graph outputs [batch, R + 1] for a batch; throws RangeError when an item has the wrong sizes. */
  async run(items: readonly PredictorItem[]): Promise<Float32Array> {
    const batch = items.length;
    const tokenSize = this.tokens * this.manifest.tokenDim;
    const roundSize = ASPECTS.length * this.roundWidth;
    const imageTokens = new Float32Array(batch * tokenSize);
    const rounds = new Float32Array(batch * roundSize);
    const roundMask = new Float32Array(batch * ASPECTS.length);
    items.forEach((item, b) => {
      if (item.imageTokens.length !== tokenSize) throw new RangeError(`Expected ${tokenSize} image-token values but received ${item.imageTokens.length}`);
      if (item.rounds.length !== roundSize) throw new RangeError(`Expected ${roundSize} round values but received ${item.rounds.length}`);
      if (item.roundMask.length !== ASPECTS.length) throw new RangeError(`Expected ${ASPECTS.length} round-mask values but received ${item.roundMask.length}`);
      imageTokens.set(item.imageTokens, b * tokenSize);
      rounds.set(item.rounds, b * roundSize);
      roundMask.set(item.roundMask, b * ASPECTS.length);
    });
    const out = await this.model.run(
      {
        image_tokens: { data: imageTokens, dims: [batch, this.tokens, this.manifest.tokenDim] },
        rounds: { data: rounds, dims: [batch, ASPECTS.length, this.roundWidth] },
        round_mask: { data: roundMask, dims: [batch, ASPECTS.length] },
      },
      ['mos'],
    );
    return out.mos!.data;
  }

  /** MOS per judged aspect (mask 1) and overall, for each item. */
  async predict(items: readonly PredictorItem[]): Promise<PredictedMos[]> {
    const raw = await this.run(items);
    const columns = ASPECTS.length + 1;
    return items.map((item, b) => {
      const aspects: Partial<Record<Aspect, number>> = {};
      ASPECTS.forEach((aspect, r) => {
        if (item.roundMask[r]! > 0.5) aspects[aspect] = raw[b * columns + r]!;
      });
      return { aspects, overall: raw[b * columns + ASPECTS.length]! };
    });
  }

  async close(): Promise<void> {
    await this.model.close();
  }
}
