// The cascade: a Scorer made of a fast scorer and a judge scorer. The fast pack scores every image;
// an image whose MOS lies in a band around the threshold the verdict turns on, or whose level
// distribution is flat (high entropy), also goes to the judge, and the judge's answer becomes the
// verdict. The judge gets a deadline: past it, or when the judge fails, the fast verdict stands —
// recorded as such, reported through `onEvent` (logs, /metrics), and stored under the fast pack's
// name so that a later request for the same image asks the judge again. A judge that answers after
// its deadline is not wasted: its result goes to the request's `lateAnswer` (the pipeline stores it,
// and the dashboard shows it) with outcome 'late'.
import { performance } from 'node:perf_hooks';
import { isAgiqaError } from '../errors/index.js';
import { round } from './levels.js';
import { ASPECTS, LEVELS, type JudgeDetail, type ScoreResult } from './score-result.js';
import type { ScoreRequest, Scorer, ScorerLoad } from './scorer.js';

export interface CascadeSettings {
  /** The MOS the verdict turns on (the policy's overall threshold). */
  threshold: number;
  /** Images with |fast MOS − threshold| ≤ band go to the judge. */
  band: number;
  /** Images with an aspect whose level entropy (÷ ln 5, so 0–1) is at least this go to the judge. */
  flatEntropy: number;
  /** How long the judge may take before the fast verdict stands, in ms. */
  deadlineMs: number;
}

export type CascadeOutcome = 'clear' | 'judge' | 'deadline' | 'judge-error' | 'late';

export interface CascadeEvent {
  outcome: CascadeOutcome;
  /** Why the judge was asked (absent for 'clear'). */
  reason?: 'band' | 'flat';
  name: string;
  fastMos: number;
  /** The judge's MOS when it decided; its error code when it failed. */
  judgeMos?: number;
  code?: string;
  ms: number;
}

/** Shannon entropy of a level distribution divided by ln 5: 0 for one level, 1 for all five equal. */
export function levelEntropy(probabilities: Record<(typeof LEVELS)[number], number>): number {
  let h = 0;
  for (const level of LEVELS) {
    const p = probabilities[level];
    if (p > 0) h -= p * Math.log(p);
  }
  return h / Math.log(LEVELS.length);
}

/** Why `fast` should go to the judge, or null when its verdict is clear. */
export function cascadeReason(fast: ScoreResult, settings: Pick<CascadeSettings, 'threshold' | 'band' | 'flatEntropy'>): 'band' | 'flat' | null {
  if (Math.abs(fast.mos - settings.threshold) <= settings.band) return 'band';
  for (const aspect of ASPECTS) {
    const a = fast.aspects[aspect];
    if (a.mos !== null && levelEntropy(a.probabilities) >= settings.flatEntropy) return 'flat';
  }
  return null;
}

const DEADLINE = Symbol('deadline');

export class CascadeScorer implements Scorer {
  readonly pack: { name: string; version: string };
  private judging = 0;
  /** The fast scorer decodes every image: a thumbnail asked of the cascade is made there. */
  readonly makesThumbnails: boolean | undefined;

  constructor(
    private readonly fast: Scorer,
    private readonly judge: Scorer & { input?: { server: { model: string } } },
    private readonly settings: CascadeSettings,
    private readonly onEvent: (event: CascadeEvent) => void = () => undefined,
  ) {
    // The cascade's verdicts depend on both packs and on where the band lies: all of it is the version.
    const s = settings;
    this.makesThumbnails = fast.makesThumbnails;
    this.pack = { name: `${fast.pack.name}+${judge.pack.name}`, version: `${fast.pack.version}+${judge.pack.version}+t${s.threshold}b${s.band}h${s.flatEntropy}` };
  }

  async score(request: ScoreRequest): Promise<ScoreResult> {
    const start = performance.now();
    // The judge may need the bytes after the fast scorer: they are not handed over to its worker.
    const fast = await this.fast.score({ ...request, handOver: false, lateAnswer: undefined });
    return this.decide(request, fast, start);
  }

  async scoreBatch(requests: ScoreRequest[]): Promise<ScoreResult[]> {
    const start = performance.now();
    const fast = await this.fast.scoreBatch(requests.map((r) => ({ ...r, handOver: false, lateAnswer: undefined })));
    return Promise.all(requests.map((request, i) => this.decide(request, fast[i]!, start)));
  }

  private detail(fast: ScoreResult, cascade: Omit<NonNullable<JudgeDetail['cascade']>, 'fast'>, judged?: JudgeDetail): JudgeDetail {
    return {
      pack: this.judge.pack.name,
      model: judged?.model ?? this.judge.input?.server.model ?? this.judge.pack.name,
      aspects: judged?.aspects ?? {},
      cascade: { ...cascade, fast: { pack: fast.pack.name, version: fast.pack.version, mos: fast.mos } },
    };
  }

  private async decide(request: ScoreRequest, fast: ScoreResult, start: number): Promise<ScoreResult> {
    const reason = cascadeReason(fast, this.settings);
    if (reason === null) {
      this.onEvent({ outcome: 'clear', name: request.name, fastMos: fast.mos, ms: round(performance.now() - start, 2) });
      return { ...fast, pack: this.pack, judge: this.detail(fast, { decidedBy: 'fast', reason: 'clear' }) };
    }
    this.judging++;
    let timer: NodeJS.Timeout | undefined;
    const judged = this.judge.score({ ...request, handOver: false, thumbnail: undefined, lateAnswer: undefined, sha256: fast.image.sha256 });
    // The judge keeps running past the deadline (its server is already busy with it); a late failure
    // is dropped, never an unhandled rejection.
    judged.catch(() => undefined).finally(() => this.judging--);
    const deadline = new Promise<typeof DEADLINE>((resolve) => {
      timer = setTimeout(() => resolve(DEADLINE), this.settings.deadlineMs);
    });
    try {
      const answer = await Promise.race([judged, deadline]);
      const ms = round(performance.now() - start, 2);
      if (answer === DEADLINE) {
        this.onEvent({ outcome: 'deadline', reason, name: request.name, fastMos: fast.mos, ms });
        judged.then((late) => this.deliverLate(request, fast, late, reason, start), () => undefined);
        return { ...fast, judge: this.detail(fast, { decidedBy: 'fast', reason: 'deadline', detail: `the judge did not answer within ${this.settings.deadlineMs} ms` }) };
      }
      this.onEvent({ outcome: 'judge', reason, name: request.name, fastMos: fast.mos, judgeMos: answer.mos, ms });
      return this.judged(fast, answer, { decidedBy: 'judge', reason }, ms);
    } catch (error) {
      const code = isAgiqaError(error) ? error.code : 'unknown';
      const message = error instanceof Error ? error.message : String(error);
      this.onEvent({ outcome: 'judge-error', reason, name: request.name, fastMos: fast.mos, code, ms: round(performance.now() - start, 2) });
      return { ...fast, judge: this.detail(fast, { decidedBy: 'fast', reason: 'judge-error', detail: `${message} [${code}]` }) };
    } finally {
      clearTimeout(timer);
    }
  }

  /** The judge's answer as the cascade's result: stored under the cascade's name, so a repeat is answered from it. */
  private judged(fast: ScoreResult, answer: ScoreResult, cascade: Omit<NonNullable<JudgeDetail['cascade']>, 'fast'>, ms: number): ScoreResult {
    return { ...answer, pack: this.pack, timings: { ...answer.timings, totalMs: ms }, judge: this.detail(fast, cascade, answer.judge) };
  }

  /** A judge answer that came after the fast verdict stood: handed to whoever asked for it (the pipeline stores it). */
  private deliverLate(request: ScoreRequest, fast: ScoreResult, answer: ScoreResult, reason: 'band' | 'flat', start: number): void {
    const ms = round(performance.now() - start, 2);
    this.onEvent({ outcome: 'late', reason, name: request.name, fastMos: fast.mos, judgeMos: answer.mos, ms });
    const detail = `the judge answered after the ${this.settings.deadlineMs} ms deadline (${ms} ms); this verdict replaces the fast one that was answered`;
    try {
      request.lateAnswer?.(this.judged(fast, answer, { decidedBy: 'judge', reason, detail }, ms));
    } catch {
      // the caller's own failure to take it is its to report; the cascade has nothing to undo
    }
  }

  /** The fast pack's pool answers for health (its workers take every image); cancellations of both count. */
  load(): ScorerLoad {
    const fast = this.fast.load();
    const judge = this.judge.load();
    return { ...fast, running: fast.running + this.judging, cancelled: (fast.cancelled ?? 0) + (judge.cancelled ?? 0) };
  }

  async close(graceMs?: number): Promise<void> {
    await Promise.all([this.fast.close(graceMs), this.judge.close(graceMs)]);
  }
}
