// A Scorer over a judge pack: decode once (size caps, embedded prompt), then the M3 rounds through the
// pack's model server. No worker threads: the work is the server's, this process only waits on I/O.
import { performance } from 'node:perf_hooks';
import { agiqaError } from '../../errors/index.js';
import { decodeImage, type DecodedImage, type ImageLimits } from '../../image/index.js';
import type { JudgeInput } from '../../model/judge/judge-input.js';
import type { LoadedPack } from '../../model/packs.js';
import { overallMos, round } from '../levels.js';
import { ASPECTS, levelOfMos, promptProblemFindings, type AspectResult, type Finding, type JudgeDetail, type ScoreResult } from '../score-result.js';
import type { ScoreRequest, Scorer } from '../scorer.js';
import { judgeImage, type JudgeOptions, type JudgeVerdict } from './judge-rounds.js';

/** The result's aspects, findings and judge detail from a verdict. */
export function resultParts(verdict: JudgeVerdict, pack: string, model: string): { aspects: ScoreResult['aspects']; findings: Finding[]; judge: JudgeDetail } {
  const aspects = {} as Record<(typeof ASPECTS)[number], AspectResult>;
  const findings: Finding[] = [];
  const detail: JudgeDetail['aspects'] = {};
  for (const aspect of ASPECTS) {
    const judged = verdict[aspect];
    if (judged.mos === null) {
      aspects[aspect] = { mos: null, reason: judged.reason };
      if (judged.description !== null) detail[aspect] = { description: judged.description, answer: null, flags: [], levelMass: null, ms: judged.ms };
      continue;
    }
    aspects[aspect] = { mos: judged.mos, level: judged.level, probabilities: judged.probabilities };
    findings.push({ aspect, code: 'judge-description', text: judged.finding, severity: 'info' });
    if (judged.flags.includes('word-only')) {
      findings.push({ aspect, code: 'judge-word-only', text: 'the judge server sent no log-probabilities: the level is its one word, not a distribution', severity: 'minor' });
    }
    detail[aspect] = { description: judged.description, answer: judged.answer, flags: judged.flags, levelMass: judged.levelMass, ms: judged.ms };
  }
  return { aspects, findings, judge: { pack, model, aspects: detail } };
}

/**
 * The M3 rounds of a judge pack on one image (encoded bytes, decoded here with the default limits, or
 * an image decoded already) and its prompt: per aspect the level probabilities, MOS, description,
 * finding and flags, or null with the reason. For callers that want the rounds without a ScoreResult
 * (training, distillation). Throws AGQ_ERR_PACK_INVALID for a pack that is not a judge pack, the
 * image errors, and the judge client's AGQ_ERR_JUDGE_* errors.
 */
export async function judgeWithPack(pack: LoadedPack, image: Uint8Array | DecodedImage, prompt: string | null, options: JudgeOptions & { limits?: ImageLimits | undefined } = {}): Promise<JudgeVerdict> {
  if (pack.manifest.input.kind !== 'judge') throw agiqaError('AGQ_ERR_PACK_INVALID', { pack: pack.manifest.name, issues: [`input.kind is ${pack.manifest.input.kind}, expected judge`] });
  const decoded = image instanceof Uint8Array ? await decodeImage(image, 'image', options.limits) : image;
  return judgeImage(pack.manifest.input, decoded, prompt, options);
}

export class JudgeScorer implements Scorer {
  readonly pack: { name: string; version: string };
  private inFlight = 0;

  private constructor(
    loaded: LoadedPack,
    readonly input: JudgeInput,
    private readonly limits: ImageLimits | undefined,
    private readonly options: JudgeOptions,
  ) {
    this.pack = { name: loaded.manifest.name, version: loaded.manifest.version };
  }

  /** Throws AGQ_ERR_PACK_INVALID when the pack is not a judge pack. */
  static create(pack: LoadedPack, options: { limits?: ImageLimits | undefined } & JudgeOptions = {}): JudgeScorer {
    if (pack.manifest.input.kind !== 'judge') throw agiqaError('AGQ_ERR_PACK_INVALID', { pack: pack.manifest.name, issues: [`input.kind is ${pack.manifest.input.kind}, expected judge`] });
    return new JudgeScorer(pack, pack.manifest.input, options.limits, options);
  }

  async score(request: ScoreRequest): Promise<ScoreResult> {
    this.inFlight++;
    try {
      const start = performance.now();
      // The judge looks at the whole picture: an oversized one is shrunk as it is decoded, never cropped.
      const image = await decodeImage(request.image, request.name, this.limits, { sha256: request.sha256, oversize: 'shrink' });
      const decoded = performance.now();
      const promptText = request.prompt ?? image.metadata.prompt;
      const promptSource = request.prompt !== undefined ? 'argument' : image.metadata.prompt !== null ? 'embedded' : 'none';
      const verdict = await judgeImage(this.input, image, promptText ?? null, this.options);
      const judged = performance.now();
      const { aspects, findings: judgeFindings, judge } = resultParts(verdict, this.pack.name, this.input.server.model);
      const findings = [...judgeFindings, ...promptProblemFindings(request.prompt, image.metadata.problem)];
      const scored = Object.values(aspects).filter((a) => a.mos !== null);
      if (scored.length === 0) {
        const reasons = ASPECTS.map((a) => `${a}: ${(aspects[a] as { reason: string }).reason}`).join('; ');
        throw agiqaError('AGQ_ERR_JUDGE_BAD_ANSWER', { url: this.input.server.url, detail: `no aspect could be read (${reasons})` });
      }
      const mos = overallMos(scored);
      return {
        mos,
        level: levelOfMos(mos),
        aspects,
        findings,
        prompt: { text: promptText ?? null, source: promptSource },
        image: { width: image.width, height: image.height, format: image.format, sha256: image.sha256 },
        pack: this.pack,
        timings: { decodeMs: round(decoded - start, 2), signalsMs: 0, modelMs: round(judged - decoded, 2), totalMs: round(performance.now() - start, 2) },
        judge,
      };
    } finally {
      this.inFlight--;
    }
  }

  async scoreBatch(requests: ScoreRequest[]): Promise<ScoreResult[]> {
    return Promise.all(requests.map((r) => this.score(r)));
  }

  load(): { queued: number; running: number } {
    return { queued: 0, running: this.inFlight };
  }

  async close(): Promise<void> {
    // Nothing held: requests in flight finish or time out on their own.
  }
}
