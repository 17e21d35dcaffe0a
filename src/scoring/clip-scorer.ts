// Scores images with a CLIP-family pack: decode once, embed the image and the prompt's plain text
// (cached), run the three zero-shot rounds (quality, correspondence, authenticity) and, when the pack carries a
// trained predictor, let it turn the rounds' evidence into the final scores. Given a detector (the lite
// pack's), the prompt's objects are checked too and cap the correspondence (combineCorrespondence).
import { performance } from 'node:perf_hooks';
import { agiqaError } from '../errors/index.js';
import type { DecodedImage, ImageLimits } from '../image/index.js';
import { decodeRequest } from './decode-request.js';
import type { ClipInput } from '../model/clip/clip-input.js';
import { ClipEncoder } from '../model/clip/clip-encoder.js';
import type { ObjectDetector } from '../model/object-detector.js';
import type { LoadedPack } from '../model/packs.js';
import { plainPromptText } from '../prompts/index.js';
import { aspectScoreFromLogits, overallMos, round } from './levels.js';
import { authenticityRound, type AuthenticityAnchors } from './rounds/authenticity-round.js';
import { correspondenceRound } from './rounds/correspondence-round.js';
import { combineCorrespondence, objectCorrespondence } from './object-correspondence.js';
import { meanDirection } from './rounds/level-logits.js';
import { nounPhrases } from './rounds/noun-phrases.js';
import { qualityRound, type QualityAnchors } from './rounds/quality-round.js';
import type { RoundOutput, RoundsPredictor } from './rounds/round.js';
import { LEVELS, levelOfMos, promptProblemFindings, type AspectResult, type AspectScore, type Finding, type ScoreResult } from './score-result.js';
import type { ScoreRequest } from './scorer.js';

export interface ClipScorerOptions {
  threads: number;
  limits?: ImageLimits | undefined;
  /** The pack's trained predictor, when it has one (pack.json `predictor`). */
  predictor?: RoundsPredictor | undefined;
  /** An object detector whose checks cap the correspondence round (the lite pack's); closed with the scorer. */
  detector?: ObjectDetector | undefined;
}

interface Anchors {
  quality: QualityAnchors;
  authenticity: AuthenticityAnchors;
}

type PromptSource = ScoreResult['prompt']['source'];

export class ClipScorer {
  private constructor(
    private readonly pack: LoadedPack,
    private readonly input: ClipInput,
    private readonly encoder: ClipEncoder,
    private readonly anchors: Anchors,
    private readonly limits: ImageLimits | undefined,
    private readonly predictor: RoundsPredictor | undefined,
    private readonly detector: ObjectDetector | undefined,
  ) {}

  /**
   * Loads the encoders and embeds every anchor text once. Throws the encoder's load errors, and
   * AGQ_ERR_PACK_INVALID when pack.json names a predictor but none was given to run it.
   */
  static async create(pack: LoadedPack, options: ClipScorerOptions): Promise<ClipScorer> {
    const { manifest } = pack;
    if (manifest.input.kind !== 'clip') throw agiqaError('AGQ_ERR_PACK_INVALID', { pack: manifest.name, issues: [`input.kind is ${manifest.input.kind}, expected clip`] });
    if (manifest.predictor !== null && options.predictor === undefined) {
      throw agiqaError('AGQ_ERR_PACK_INVALID', {
        pack: manifest.name,
        issues: ['pack.json names a trained predictor that this version of agiqa cannot run; update agiqa, or set "predictor": null to score zero-shot'],
      });
    }
    const input = manifest.input;
    const encoder = await ClipEncoder.load(pack, { threads: options.threads });
    try {
      const rounds = input.rounds;
      const levelTexts = LEVELS.map((level) => rounds.quality.anchors[level]);
      const flat = [...levelTexts.flat(), ...rounds.authenticity.real, ...rounds.authenticity.artifact];
      const vectors = new Map<string, Float32Array>();
      (await encoder.encodeTexts(flat)).forEach((v, i) => vectors.set(flat[i]!, v));
      const anchors: Anchors = {
        quality: { levels: levelTexts.map((texts) => meanDirection(texts.map((t) => vectors.get(t)!))) },
        authenticity: {
          real: rounds.authenticity.real.map((t) => vectors.get(t)!),
          artifact: rounds.authenticity.artifact.map((t) => vectors.get(t)!),
        },
      };
      return new ClipScorer(pack, input, encoder, anchors, options.limits, options.predictor, options.detector);
    } catch (error) {
      await encoder.close();
      throw error;
    }
  }

  async score(request: ScoreRequest): Promise<ScoreResult> {
    const [result] = await this.scoreBatch([request]);
    return result!;
  }

  /**
   * Scores several images with one pass of the image tower; prompts they share are encoded once.
   * A request whose image cannot be decoded fails the whole batch (the pool scores one at a time).
   */
  async scoreBatch(requests: readonly ScoreRequest[]): Promise<ScoreResult[]> {
    return (await this.scoreWithRounds(requests)).results;
  }

  /**
   * scoreBatch plus what the rounds saw: each image's embedding and every round's output (the
   * zero-shot ones, before any predictor). `agiqa train` learns the predictor from these.
   */
  async scoreWithRounds(requests: readonly ScoreRequest[]): Promise<{ results: ScoreResult[]; rounds: { image: Float32Array; outputs: RoundOutput[] }[] }> {
    const start = performance.now();
    const images: DecodedImage[] = [];
    // CLIP sees the image at 224 px: an oversized one is shrunk as it is decoded (JPEG/WebP on load).
    for (const request of requests) images.push(await decodeRequest(request, this.limits, 'shrink'));
    const decoded = performance.now();
    const imageVectors = await this.encoder.encodeImages(images);
    const results: ScoreResult[] = [];
    const seen: { image: Float32Array; outputs: RoundOutput[] }[] = [];
    for (let i = 0; i < requests.length; i++) {
      const request = requests[i]!;
      const image = images[i]!;
      const itemStart = performance.now();
      const promptText = request.prompt ?? image.metadata.prompt;
      const promptSource: PromptSource = request.prompt !== undefined ? 'argument' : image.metadata.prompt !== null ? 'embedded' : 'none';
      const rounds = await this.rounds(imageVectors[i]!, promptText, promptSource);
      seen.push({ image: imageVectors[i]!, outputs: rounds.outputs });
      const aspects = await this.aspects(imageVectors[i]!, rounds);
      const findings: Finding[] = [...rounds.outputs.flatMap((r) => r.findings), ...promptProblemFindings(request.prompt, image.metadata.problem)];
      const objects = this.detector === undefined ? undefined : await objectCorrespondence(this.detector, image, promptText ?? null, request.detections === true);
      if (objects !== undefined) {
        const combined = combineCorrespondence(aspects.correspondence, objects.round, (r) => aspectScoreFromLogits(r.logits, r.mos));
        aspects.correspondence = combined.aspect;
        findings.push(...combined.findings);
      }
      const judged = Object.values(aspects).filter((a): a is AspectScore => a.mos !== null);
      const mos = overallMos(judged);
      const now = performance.now();
      results.push({
        mos,
        level: levelOfMos(mos),
        aspects,
        findings,
        prompt: { text: promptText ?? null, source: promptSource },
        image: { width: image.source.width, height: image.source.height, format: image.format, sha256: image.sha256 },
        pack: { name: this.pack.manifest.name, version: this.pack.manifest.version },
        ...(objects?.detections !== undefined ? { detections: objects.detections } : {}),
        timings: {
          // A batch shares its decode and image pass: each result reports its share of them.
          decodeMs: round((decoded - start) / requests.length, 2),
          signalsMs: 0,
          modelMs: round((itemStart - decoded) / requests.length + (now - itemStart), 2),
          ...(objects?.detectorMs !== undefined ? { detectorMs: objects.detectorMs } : {}),
          totalMs: round((itemStart - start) / requests.length + (now - itemStart), 2),
        },
      });
    }
    return { results, rounds: seen };
  }

  private async rounds(image: Float32Array, prompt: string | null, source: PromptSource): Promise<{ outputs: RoundOutput[]; correspondenceReason: string | null }> {
    const { rounds } = this.input;
    const outputs = [qualityRound(image, this.anchors.quality, rounds.quality), authenticityRound(image, this.anchors.authenticity, rounds.authenticity)];
    if (prompt === null || prompt.trim().length === 0) {
      const reason =
        source === 'none'
          ? 'not judged: no prompt was given and none is embedded in the image; pass the prompt (--prompt, or "prompt" in the API) to judge correspondence'
          : `not judged: the prompt is empty (${prompt?.length ?? 0} characters); correspondence needs the text that made the image`;
      return { outputs, correspondenceReason: reason };
    }
    // The towers read the words, not the UI's syntax: weights, brackets and <lora:…> tags would only
    // pull the text embedding away from the scene, and make "phrases" of markup.
    const plain = plainPromptText(prompt);
    if (plain.length === 0) {
      const reason =
        'not judged: the prompt holds UI syntax only (weights, <lora:…> tags, BREAK, …) and no words; correspondence needs the text that made the image';
      return { outputs, correspondenceReason: reason };
    }
    const count = this.encoder.countTokens(plain);
    const phrases = nounPhrases(plain, { maxPhrases: rounds.correspondence.maxPhrases, ignoreTerms: rounds.correspondence.ignoreTerms });
    const phraseTexts = phrases.map((p) => rounds.correspondence.phraseTemplate.replace('{}', p.text));
    const [promptVector, ...phraseVectors] = await this.encoder.encodeTexts([plain, ...phraseTexts]);
    outputs.splice(
      1,
      0,
      correspondenceRound(
        {
          image,
          prompt: promptVector!,
          phrases: phrases.map((p, i) => ({ text: p.text, embedding: phraseVectors[i]! })),
          truncation: count.truncated ? { tokens: count.tokens, limit: count.limit } : null,
        },
        rounds.correspondence,
      ),
    );
    return { outputs, correspondenceReason: null };
  }

  private async aspects(image: Float32Array, rounds: { outputs: RoundOutput[]; correspondenceReason: string | null }): Promise<ScoreResult['aspects']> {
    const predicted = this.predictor === undefined ? {} : await this.predictor.predict({ image, rounds: rounds.outputs });
    const byAspect = (aspect: RoundOutput['aspect']): AspectResult => {
      const output = rounds.outputs.find((r) => r.aspect === aspect);
      if (output === undefined) return { mos: null, reason: rounds.correspondenceReason ?? 'not judged' };
      const prediction = predicted[aspect] ?? output;
      return aspectScoreFromLogits(prediction.logits, prediction.mos);
    };
    return { quality: byAspect('quality'), correspondence: byAspect('correspondence'), authenticity: byAspect('authenticity') };
  }

  async close(): Promise<void> {
    await Promise.all([this.encoder.close(), this.predictor?.close(), this.detector?.close()]);
  }
}
