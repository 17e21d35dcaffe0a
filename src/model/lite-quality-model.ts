// The quality model of `lite-crops` packs: native-resolution crops plus the classical signal vector
// in, level logits and MOS out (plus the backbone's pooled features for later sequence predictors).
import { agiqaError } from '../errors/index.js';
import { cropTensor, type RgbImage } from './lite-crops.js';
import { OnnxModel } from './onnx-session.js';
import type { LoadedPack } from './packs.js';

export interface QualityPrediction {
  /** Logits over bad, poor, fair, good, excellent. */
  logits: number[];
  /** The graph's own expected MOS on 0–5 (Σ softmax(logits) · level centres). */
  mos: number;
  /** Mean pooled backbone features over the crops [1280]. */
  pooled: Float32Array;
}

export class LiteQualityModel {
  private constructor(
    private readonly model: OnnxModel,
    private readonly crops: number,
    private readonly cropSize: number,
    readonly signalCount: number,
    readonly signalsVersion: string,
  ) {}

  /** Loads the pack's `quality` model; throws AGQ_ERR_PACK_INVALID when the pack is not a lite-crops pack. */
  static async load(pack: LoadedPack, threads: number): Promise<LiteQualityModel> {
    const { manifest } = pack;
    const role = manifest.models.quality;
    if (manifest.input.kind !== 'lite-crops' || role === undefined) {
      throw agiqaError('AGQ_ERR_PACK_INVALID', { pack: manifest.name, issues: ['a lite-crops pack needs input.kind "lite-crops" and a models.quality entry'] });
    }
    const path = pack.files.get(role.file);
    if (path === undefined) throw agiqaError('AGQ_ERR_PACK_FILE_MISSING', { pack: manifest.name, file: role.file });
    const model = await OnnxModel.load(path, { threads, label: `${manifest.name}/${role.file}`, pack: manifest.name, file: role.file });
    model.assertInputs(['crops', 'signals']);
    return new LiteQualityModel(model, manifest.input.crops, manifest.input.cropSize, manifest.input.signalCount, manifest.input.signalsVersion);
  }

  async predict(image: RgbImage, signals: Float32Array): Promise<QualityPrediction> {
    if (signals.length !== this.signalCount) {
      throw agiqaError('AGQ_ERR_MODEL_INPUT', { model: 'quality', detail: `expected ${this.signalCount} signals, got ${signals.length}` });
    }
    const crops = cropTensor(image, this.crops, this.cropSize);
    const out = await this.model.run(
      { crops, signals: { data: signals, dims: [1, signals.length] } },
      ['quality_logits', 'quality_mos', 'pooled'],
    );
    return { logits: Array.from(out.quality_logits!.data), mos: out.quality_mos!.data[0]!, pooled: out.pooled!.data };
  }

  async close(): Promise<void> {
    await this.model.close();
  }
}
