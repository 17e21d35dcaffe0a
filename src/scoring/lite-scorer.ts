// Scores one image with a `lite-crops` pack: decode once, classical signals, the quality model,
// then the result with findings. The lite pack cannot read the prompt, so correspondence and
// authenticity are reported as not judged, with what the user can do about it.
import { performance } from 'node:perf_hooks';
import { agiqaError } from '../errors/index.js';
import type { ImageLimits } from '../image/index.js';
import { decodeRequest } from './decode-request.js';
import { LiteQualityModel } from '../model/lite-quality-model.js';
import { PredictedQualityModel } from '../model/predictor-encoder.js';
import type { LoadedPack } from '../model/packs.js';
import { computeSignals, signalFindings, SIGNALS_VERSION } from '../signals/index.js';
import { aspectScoreFromLogits, overallMos, round } from './levels.js';
import { levelOfMos, promptProblemFindings, type Finding, type ScoreResult } from './score-result.js';
import type { ScoreRequest } from './scorer.js';

const NOT_JUDGED = {
  correspondence:
    'not judged: the lite pack does not read the prompt; for correspondence use a prompt-aware pack (`agiqa models pull clip-vit-b32`, then `--pack clip-vit-b32`)',
  authenticity:
    'not judged: the lite pack has no authenticity round; for authenticity use a CLIP-family pack (`agiqa models pull clip-vit-b32`)',
} as const;

export class LiteScorer {
  private constructor(
    private readonly pack: LoadedPack,
    private readonly model: LiteQualityModel | PredictedQualityModel,
    private readonly limits: ImageLimits | undefined,
  ) {}

  /** Loads the pack's model; throws AGQ_ERR_PACK_INVALID when the pack was built for other signals. */
  static async create(pack: LoadedPack, options: { threads: number; limits?: ImageLimits | undefined }): Promise<LiteScorer> {
    // A pack with a trained M3 predictor takes its quality MOS from the predictor (see docs/evaluation.md).
    const model = pack.manifest.predictor !== null ? await PredictedQualityModel.load(pack, options.threads) : await LiteQualityModel.load(pack, options.threads);
    if (model.signalsVersion !== SIGNALS_VERSION) {
      await model.close();
      throw agiqaError('AGQ_ERR_PACK_INVALID', {
        pack: pack.manifest.name,
        issues: [`input.signalsVersion is ${model.signalsVersion} but this agiqa computes signals version ${SIGNALS_VERSION}; update agiqa or the pack`],
      });
    }
    return new LiteScorer(pack, model, options.limits);
  }

  async score(request: ScoreRequest): Promise<ScoreResult> {
    const start = performance.now();
    const image = await decodeRequest(request, this.limits);
    const decoded = performance.now();
    const signals = computeSignals(image);
    const signalled = performance.now();
    const prediction = await this.model.predict(image, signals.features);
    const predicted = performance.now();

    const quality = aspectScoreFromLogits(prediction.logits, prediction.mos);
    const findings: Finding[] = [
      ...signalFindings(signals.measures).map((f): Finding => ({ aspect: 'quality', ...f })),
      ...promptProblemFindings(request.prompt, image.metadata.problem),
    ];
    const mos = overallMos([quality]);
    const promptText = request.prompt ?? image.metadata.prompt;
    const promptSource = request.prompt !== undefined ? 'argument' : image.metadata.prompt !== null ? 'embedded' : 'none';
    return {
      mos,
      level: levelOfMos(mos),
      aspects: {
        quality,
        correspondence: { mos: null, reason: NOT_JUDGED.correspondence },
        authenticity: { mos: null, reason: NOT_JUDGED.authenticity },
      },
      findings,
      prompt: { text: promptText ?? null, source: promptSource },
      image: { width: image.width, height: image.height, format: image.format, sha256: image.sha256 },
      pack: { name: this.pack.manifest.name, version: this.pack.manifest.version },
      timings: {
        decodeMs: round(decoded - start, 2),
        signalsMs: round(signalled - decoded, 2),
        modelMs: round(predicted - signalled, 2),
        totalMs: round(performance.now() - start, 2),
      },
    };
  }

  async close(): Promise<void> {
    await this.model.close();
  }
}
