// The features the M3 predictor reads, taken from a `lite-crops` pack's quality model: its spatial map
// pooled into image tokens, its level logits and the classical signals as the quality round's evidence.
// `LiteEncoder` serves `agiqa train`; `PredictedQualityModel` is the quality model of a pack that ships
// a predictor (same interface as LiteQualityModel, MOS from the predictor).
import { agiqaError } from '../errors/index.js';
import { cropTensor, type RgbImage } from './lite-crops.js';
import type { QualityPrediction } from './lite-quality-model.js';
import { OnnxModel } from './onnx-session.js';
import type { LoadedPack } from './packs.js';
import { PredictorModel } from './predictor.js';
import { poolSpatialTokens, roundRows } from './predictor-features.js';

/** The grid image tokens are pooled onto; 3×3 keeps the layout and the sequence short (9 + 3 tokens). */
export const DEFAULT_TOKEN_GRID = 3;
const SPATIAL_SIZE = 7;

export interface EncodedImage {
  /** [grid², channels] image tokens. */
  tokens: Float32Array;
  /** The quality model's level logits and its own MOS (the "Foundation" head, for the ablation). */
  logits: number[];
  headMos: number;
  pooled: Float32Array;
}

export class LiteEncoder {
  private constructor(
    private readonly model: OnnxModel,
    readonly crops: number,
    readonly cropSize: number,
    readonly signalCount: number,
    readonly signalsVersion: string,
    readonly tokenGrid: number,
  ) {}

  /** Throws AGQ_ERR_PACK_INVALID unless the pack is lite-crops with a quality model giving `spatial`. */
  static async load(pack: LoadedPack, threads: number, tokenGrid = DEFAULT_TOKEN_GRID): Promise<LiteEncoder> {
    const { manifest } = pack;
    const role = manifest.models.quality;
    if (manifest.input.kind !== 'lite-crops' || role === undefined) {
      throw agiqaError('AGQ_ERR_PACK_INVALID', { pack: manifest.name, issues: ['the predictor needs a lite-crops pack with a models.quality entry'] });
    }
    const path = pack.files.get(role.file);
    if (path === undefined) throw agiqaError('AGQ_ERR_PACK_FILE_MISSING', { pack: manifest.name, file: role.file });
    const model = await OnnxModel.load(path, { threads, label: `${manifest.name}/${role.file}`, pack: manifest.name, file: role.file });
    model.assertInputs(['crops', 'signals']);
    const lacking = ['quality_logits', 'quality_mos', 'pooled', 'spatial'].filter((name) => !model.outputNames.includes(name));
    if (lacking.length > 0) {
      await model.close();
      throw agiqaError('AGQ_ERR_PACK_INVALID', { pack: manifest.name, issues: [`${role.file} lacks output(s) ${lacking.join(', ')} that the predictor reads`] });
    }
    const input = manifest.input;
    return new LiteEncoder(model, input.crops, input.cropSize, input.signalCount, input.signalsVersion, tokenGrid);
  }

  async encode(image: RgbImage, signals: Float32Array): Promise<EncodedImage> {
    if (signals.length !== this.signalCount) {
      throw agiqaError('AGQ_ERR_MODEL_INPUT', { model: 'quality', detail: `expected ${this.signalCount} signals, got ${signals.length}` });
    }
    const crops = cropTensor(image, this.crops, this.cropSize);
    const out = await this.model.run({ crops, signals: { data: signals, dims: [1, signals.length] } }, ['quality_logits', 'quality_mos', 'pooled', 'spatial']);
    const spatial = out.spatial!;
    const [count, d1, d2, d3] = spatial.dims;
    // [crops, channels, 7, 7] as documented; [crops, 7, 7, channels] accepted too (keras layout)
    const nchw = spatial.dims.length === 4 && d2 === SPATIAL_SIZE && d3 === SPATIAL_SIZE;
    const nhwc = !nchw && spatial.dims.length === 4 && d1 === SPATIAL_SIZE && d2 === SPATIAL_SIZE;
    if (!nchw && !nhwc) {
      throw agiqaError('AGQ_ERR_MODEL_INPUT', { model: this.model.label, detail: `spatial output is [${spatial.dims.join(', ')}], expected [crops, channels, 7, 7]` });
    }
    return {
      tokens: poolSpatialTokens(spatial.data, count!, nchw ? d1! : d3!, SPATIAL_SIZE, this.tokenGrid, nchw ? 'nchw' : 'nhwc'),
      logits: Array.from(out.quality_logits!.data),
      headMos: out.quality_mos!.data[0]!,
      pooled: out.pooled!.data,
    };
  }

  async close(): Promise<void> {
    await this.model.close();
  }
}

/** The quality model of a lite-crops pack with a predictor: encoder → predictor; logits stay the encoder's. */
export class PredictedQualityModel {
  private constructor(
    private readonly encoder: LiteEncoder,
    private readonly predictor: PredictorModel,
  ) {}

  get signalCount(): number {
    return this.encoder.signalCount;
  }

  get signalsVersion(): string {
    return this.encoder.signalsVersion;
  }

  /** Throws AGQ_ERR_PACK_INVALID / AGQ_ERR_PREDICTOR_INVALID when the pack and its predictor disagree. */
  static async load(pack: LoadedPack, threads: number): Promise<PredictedQualityModel> {
    const manifest = pack.manifest.predictor;
    if (manifest === null) throw agiqaError('AGQ_ERR_PREDICTOR_INVALID', { pack: pack.manifest.name, detail: 'pack.json has no predictor entry' });
    const path = pack.files.get(manifest.file);
    if (path === undefined) throw agiqaError('AGQ_ERR_PACK_FILE_MISSING', { pack: pack.manifest.name, file: manifest.file });
    const encoder = await LiteEncoder.load(pack, threads, manifest.tokenGrid);
    if (manifest.evidenceWidth < encoder.signalCount && manifest.evidence.quality === 'signals') {
      await encoder.close();
      throw agiqaError('AGQ_ERR_PREDICTOR_INVALID', {
        pack: pack.manifest.name,
        detail: `evidenceWidth ${manifest.evidenceWidth} is smaller than the ${encoder.signalCount} signals of the quality round`,
      });
    }
    const predictor = await PredictorModel.load(path, manifest, { threads, pack: pack.manifest.name });
    return new PredictedQualityModel(encoder, predictor);
  }

  async predict(image: RgbImage, signals: Float32Array): Promise<QualityPrediction> {
    const encoded = await this.encoder.encode(image, signals);
    const evidence = this.predictor.manifest.evidence.quality === 'signals' ? signals : new Float32Array(0);
    const { rounds, mask } = roundRows({ quality: { logits: encoded.logits, evidence } }, this.predictor.manifest.evidenceWidth);
    const [predicted] = await this.predictor.predict([{ imageTokens: encoded.tokens, rounds, roundMask: mask }]);
    return { logits: encoded.logits, mos: predicted!.aspects.quality ?? encoded.headMos, pooled: encoded.pooled };
  }

  async close(): Promise<void> {
    await Promise.all([this.encoder.close(), this.predictor.close()]);
  }
}
