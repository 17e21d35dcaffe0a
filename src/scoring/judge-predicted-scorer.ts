// A judge pack trained by `agiqa train` (layout judge/1): the judge's rounds as usual, then the M3
// predictor over [the fast pack's image tokens; one token per round] gives each learned aspect's MOS.
// The level probabilities and findings stay the judge's; the result says the predictor decided.
import { agiqaError } from '../errors/index.js';
import { decodeImage, type ImageLimits } from '../image/index.js';
import { loadPack, type LoadedPack } from '../model/packs.js';
import { PredictorModel } from '../model/predictor.js';
import { roundRows, type RoundEvidence } from '../model/predictor-features.js';
import { judgeRoundEvidence } from '../model/predictor-layout.js';
import { loadImageTokenEncoder, type ImageTokenEncoder } from './image-tokens.js';
import { JudgeScorer } from './judge/judge-scorer.js';
import { overallMos, round } from './levels.js';
import { ASPECTS, LEVELS, levelOfMos, type Aspect, type AspectScore, type ScoreResult } from './score-result.js';
import type { ScoreRequest, Scorer } from './scorer.js';

export class JudgePredictedScorer implements Scorer {
  private constructor(
    private readonly judge: JudgeScorer,
    private readonly encoder: ImageTokenEncoder,
    private readonly predictor: PredictorModel,
    private readonly limits: ImageLimits | undefined,
  ) {}

  get pack(): { name: string; version: string } {
    return this.judge.pack;
  }

  /**
   * Loads the fast pack the layout names (by name, from $AGIQA_HOME/models or the embedded packs) and
   * the predictor. Throws AGQ_ERR_PREDICTOR_INVALID when the layout is not judge/1 or the fast pack's
   * version differs from the one trained on, and the packs' load errors.
   */
  static async create(pack: LoadedPack, options: { limits?: ImageLimits | undefined; threads: number; home?: string | undefined }): Promise<JudgePredictedScorer> {
    const entry = pack.manifest.predictor;
    const layout = entry?.features;
    const tokensFrom = layout?.imageTokens.pack;
    if (entry === null || layout?.version !== 'judge/1' || tokensFrom === undefined) {
      throw agiqaError('AGQ_ERR_PREDICTOR_INVALID', { pack: pack.manifest.name, detail: `a judge pack's predictor reads layout judge/1 naming its fast pack; found ${layout?.version ?? 'none'}` });
    }
    const fast = await loadPack(tokensFrom.name, { home: options.home });
    if (fast.manifest.version !== tokensFrom.version) {
      throw agiqaError('AGQ_ERR_PREDICTOR_INVALID', { pack: pack.manifest.name, detail: `trained on image tokens of ${tokensFrom.name} ${tokensFrom.version}, but ${fast.manifest.version} is installed` });
    }
    const path = pack.files.get(entry.file);
    if (path === undefined) throw agiqaError('AGQ_ERR_PACK_FILE_MISSING', { pack: pack.manifest.name, file: entry.file });
    const encoder = await loadImageTokenEncoder(fast, options.threads);
    try {
      const predictor = await PredictorModel.load(path, entry, { threads: options.threads, pack: pack.manifest.name });
      return new JudgePredictedScorer(JudgeScorer.create(pack, { limits: options.limits }), encoder, predictor, options.limits);
    } catch (error) {
      await encoder.close();
      throw error;
    }
  }

  async score(request: ScoreRequest): Promise<ScoreResult> {
    const judged = await this.judge.score(request);
    const image = await decodeImage(request.image, request.name, this.limits, { sha256: judged.image.sha256 });
    const tokens = await this.encoder.encode(image);
    const scored = ASPECTS.filter((a) => judged.aspects[a].mos !== null);
    const descriptions = scored.map((a) => judged.judge?.aspects[a]?.description ?? '');
    const embeddings = (await this.encoder.embedTexts(descriptions)) ?? null;
    const rows: Partial<Record<Aspect, RoundEvidence>> = {};
    scored.forEach((aspect, i) => {
      const result = judged.aspects[aspect] as AspectScore;
      const wordOnly = judged.judge?.aspects[aspect]?.flags.includes('word-only') ?? false;
      const probabilities = LEVELS.map((l) => result.probabilities[l]);
      const row = judgeRoundEvidence({ probabilities: wordOnly ? null : probabilities, levelIndex: LEVELS.indexOf(result.level) }, embeddings?.[i] ?? null);
      if (row !== null) rows[aspect] = row;
    });
    const { rounds, mask } = roundRows(rows, this.predictor.manifest.evidenceWidth);
    const [predicted] = await this.predictor.predict([{ imageTokens: tokens, rounds, roundMask: mask }]);
    const learned = this.predictor.manifest.aspects ?? ASPECTS;
    const aspects = { ...judged.aspects };
    for (const aspect of scored) {
      const mos = predicted!.aspects[aspect];
      if (mos === undefined || !learned.includes(aspect)) continue;
      const clamped = round(Math.min(5, Math.max(0, mos)), 3);
      aspects[aspect] = { ...(judged.aspects[aspect] as AspectScore), mos: clamped, level: levelOfMos(clamped) };
    }
    const mos = overallMos(Object.values(aspects).filter((a): a is AspectScore => a.mos !== null));
    return { ...judged, mos, level: levelOfMos(mos), aspects };
  }

  async scoreBatch(requests: ScoreRequest[]): Promise<ScoreResult[]> {
    return Promise.all(requests.map((r) => this.score(r)));
  }

  load(): { queued: number; running: number } {
    return this.judge.load();
  }

  async close(): Promise<void> {
    await Promise.all([this.encoder.close(), this.predictor.close()]);
  }
}
