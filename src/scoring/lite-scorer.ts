// Scores one image with a `lite-crops` pack: decode once, classical signals, the quality model,
// then the result with findings. Correspondence comes from object checks when the pack carries a
// detector and the prompt names objects it knows; authenticity is reported as not judged, with what
// the user can do about it.
import { performance } from 'node:perf_hooks';
import { agiqaError } from '../errors/index.js';
import type { ImageLimits } from '../image/index.js';
import { decodeRequest } from './decode-request.js';
import { LiteQualityModel } from '../model/lite-quality-model.js';
import { ObjectDetector } from '../model/object-detector.js';
import type { PackScorerOptions } from './pack-scorer.js';
import { PredictedQualityModel } from '../model/predictor-encoder.js';
import type { LoadedPack } from '../model/packs.js';
import { computeSignals, gateFindings, signalFindings, SIGNALS_VERSION } from '../signals/index.js';
import { aspectScoreFromLogits, overallMos, round } from './levels.js';
import { objectCorrespondence, type ObjectCorrespondence } from './object-correspondence.js';
import { levelOfMos, promptProblemFindings, type AspectResult, type Finding, type ScoreResult } from './score-result.js';
import type { ScoreRequest } from './scorer.js';

const NOT_JUDGED = {
  correspondence:
    'not judged: this pack does not read the prompt; for correspondence use a prompt-aware pack (`agiqa models pull clip-vit-b32`, then `--pack clip-vit-b32`)',
  noPrompt: 'not judged: no prompt (pass --prompt, or score an image that carries its generation prompt)',
  authenticity:
    'not judged: the lite pack has no authenticity round; for authenticity use a CLIP-family pack (`agiqa models pull clip-vit-b32`)',
} as const;

export class LiteScorer {
  private constructor(
    private readonly pack: LoadedPack,
    private readonly model: LiteQualityModel | PredictedQualityModel,
    private readonly detector: ObjectDetector | null,
    private readonly limits: ImageLimits | undefined,
  ) {}

  /** Loads the pack's model; throws AGQ_ERR_PACK_INVALID when the pack was built for other signals. */
  static async create(pack: LoadedPack, options: PackScorerOptions): Promise<LiteScorer> {
    // A pack with a trained M3 predictor takes its quality MOS from the predictor (see docs/evaluation.md).
    const model = pack.manifest.predictor !== null ? await PredictedQualityModel.load(pack, options.threads) : await LiteQualityModel.load(pack, options.threads);
    if (model.signalsVersion !== SIGNALS_VERSION) {
      await model.close();
      throw agiqaError('AGQ_ERR_PACK_INVALID', {
        pack: pack.manifest.name,
        issues: [`input.signalsVersion is ${model.signalsVersion} but this agiqa computes signals version ${SIGNALS_VERSION}; update agiqa or the pack`],
      });
    }
    const detector = await ObjectDetector.load(pack, options.detectorThreads ?? options.threads);
    return new LiteScorer(pack, model, detector, options.limits);
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
      // A finding is evidence for a lower score: above its calibrated gate the model judged the picture good.
      ...gateFindings(signalFindings(signals.measures), prediction.mos).map((f): Finding => ({ aspect: 'quality', ...f })),
      ...promptProblemFindings(request.prompt, image.metadata.problem),
    ];
    const promptText = request.prompt ?? image.metadata.prompt;
    const promptSource = request.prompt !== undefined ? 'argument' : image.metadata.prompt !== null ? 'embedded' : 'none';

    let correspondence: AspectResult = { mos: null, reason: this.detector === null ? NOT_JUDGED.correspondence : NOT_JUDGED.noPrompt };
    let objects: ObjectCorrespondence | undefined;
    if (this.detector !== null) {
      objects = await objectCorrespondence(this.detector, image, promptText ?? null, request.detections === true);
      if (objects.round !== null) {
        correspondence = aspectScoreFromLogits(objects.round.logits, objects.round.mos);
        findings.push(...objects.round.findings);
      } else if (objects.reason !== null) {
        correspondence = { mos: null, reason: objects.reason };
      }
    }
    const detections = objects?.detections;
    const mos = overallMos([quality, correspondence]);
    return {
      mos,
      level: levelOfMos(mos),
      aspects: {
        quality,
        correspondence,
        authenticity: { mos: null, reason: NOT_JUDGED.authenticity },
      },
      findings,
      prompt: { text: promptText ?? null, source: promptSource },
      image: { width: image.source.width, height: image.source.height, format: image.format, sha256: image.sha256 },
      pack: { name: this.pack.manifest.name, version: this.pack.manifest.version },
      ...(detections !== undefined ? { detections } : {}),
      timings: {
        decodeMs: round(decoded - start, 2),
        signalsMs: round(signalled - decoded, 2),
        modelMs: round(predicted - signalled, 2),
        ...(objects?.detectorMs !== undefined ? { detectorMs: objects.detectorMs } : {}),
        totalMs: round(performance.now() - start, 2),
      },
    };
  }

  async close(): Promise<void> {
    await this.model.close();
    await this.detector?.close();
  }
}
