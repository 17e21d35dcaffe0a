// The cascade over a fast scorer and a real JudgeScorer talking to the server double: who goes to
// the judge (band, flat distribution), whose verdict stands, the deadline and the judge's late answer,
// a failing judge, the events for logs and /metrics, and the pack identity results are stored under.
import { afterEach, describe, expect, it } from 'vitest';
import { CascadeScorer, cascadeReason, levelEntropy, type CascadeEvent } from '../../src/scoring/cascade-scorer.js';
import { JudgeScorer } from '../../src/scoring/judge/judge-scorer.js';
import { levelOfMos, scoreResultSchema, type LevelProbabilities, type ScoreResult } from '../../src/scoring/score-result.js';
import type { ScoreRequest, Scorer } from '../../src/scoring/scorer.js';
import { startJudgeDouble, type RunningDouble } from '../fixtures/judge/judge-double.js';
import { makeJudgePack } from '../fixtures/judge/judge-pack.js';
import { encodePng } from '../fixtures/server/png.js';

const PEAKED: LevelProbabilities = { bad: 0.01, poor: 0.02, fair: 0.07, good: 0.8, excellent: 0.1 };
const FLAT: LevelProbabilities = { bad: 0.2, poor: 0.2, fair: 0.2, good: 0.2, excellent: 0.2 };

/** A fast scorer whose MOS and level distribution come from the request name ("3.4" or "3.4-flat"). */
class NamedScorer implements Scorer {
  readonly pack = { name: 'lite', version: '0.2.0' };
  handedOver: (boolean | undefined)[] = [];
  lateAnswers: boolean[] = [];
  async score(request: ScoreRequest): Promise<ScoreResult> {
    this.handedOver.push(request.handOver);
    this.lateAnswers.push(request.lateAnswer !== undefined);
    const mos = Number.parseFloat(request.name);
    const probabilities = request.name.endsWith('-flat') ? FLAT : PEAKED;
    return {
      mos,
      level: levelOfMos(mos),
      aspects: { quality: { mos, level: levelOfMos(mos), probabilities }, correspondence: { mos: null, reason: 'lite' }, authenticity: { mos: null, reason: 'lite' } },
      findings: [],
      prompt: { text: null, source: 'none' },
      image: { width: 64, height: 32, format: 'png', sha256: 'a'.repeat(64) },
      pack: this.pack,
      timings: { decodeMs: 0, signalsMs: 0, modelMs: 0, totalMs: 0 },
    };
  }
  async scoreBatch(requests: ScoreRequest[]): Promise<ScoreResult[]> {
    return Promise.all(requests.map((r) => this.score(r)));
  }
  load() {
    return { queued: 0, running: 0 };
  }
  async close() {}
}

let double: RunningDouble | undefined;
afterEach(async () => {
  await double?.close();
  double = undefined;
});

const image = encodePng(96, 64, 2);
// A deadline no loaded test machine reaches, except in the test of the deadline itself.
const SETTINGS = { threshold: 2.5, band: 0.5, flatEntropy: 0.9, deadlineMs: 15_000 };

async function cascade(delayMs = 0, settings = SETTINGS) {
  double = await startJudgeDouble({ flavor: 'llama.cpp', delayMs });
  const { pack } = await makeJudgePack(double.url, { server: { retries: 0 } });
  const events: CascadeEvent[] = [];
  const fast = new NamedScorer();
  const scorer = new CascadeScorer(fast, JudgeScorer.create(pack), settings, (e) => events.push(e));
  return { scorer, events, fast, judgeVersion: pack.manifest.version };
}

describe('cascadeReason and levelEntropy', () => {
  it('sends the band around the threshold and flat distributions to the judge, nothing else', async () => {
    const fast = new NamedScorer();
    const reason = async (name: string) => cascadeReason(await fast.score({ image, name }), SETTINGS);
    expect(await reason('2.0')).toBe('band');
    expect(await reason('3.0')).toBe('band');
    expect(await reason('3.01')).toBeNull();
    expect(await reason('1.9')).toBeNull();
    expect(await reason('4.2-flat')).toBe('flat');
    expect(levelEntropy(FLAT)).toBeCloseTo(1, 12);
    expect(levelEntropy({ bad: 0, poor: 0, fair: 1, good: 0, excellent: 0 })).toBe(0);
  });
});

describe('CascadeScorer', () => {
  it('keeps the fast verdict outside the band without asking the judge', async () => {
    const { scorer, events, judgeVersion } = await cascade();
    const result = await scorer.score({ image, name: '4.1', prompt: 'a fox' });
    expect(scoreResultSchema.parse(result)).toEqual(result);
    expect(result.mos).toBe(4.1);
    expect(result.pack).toEqual({ name: 'lite+judge-test', version: `0.2.0+${judgeVersion}+t2.5b0.5h0.9` });
    expect(result.judge?.cascade).toEqual({ decidedBy: 'fast', reason: 'clear', fast: { pack: 'lite', version: '0.2.0', mos: 4.1 } });
    expect(double!.chatRequests()).toHaveLength(0);
    expect(events.map((e) => e.outcome)).toEqual(['clear']);
  });

  it('lets the judge decide inside the band and for a flat distribution, recording which judge', async () => {
    const { scorer, events, fast } = await cascade();
    const banded = await scorer.score({ image, name: '2.7', prompt: 'a fox', handOver: true });
    expect(banded.mos).toBeCloseTo(3.592, 3);
    expect(banded.aspects.correspondence.mos).not.toBeNull();
    expect(banded.judge).toMatchObject({ pack: 'judge-test', model: 'minicpm-v:8b', cascade: { decidedBy: 'judge', reason: 'band', fast: { pack: 'lite', mos: 2.7 } } });
    expect(banded.pack.name).toBe('lite+judge-test');
    // The bytes stay with the cascade for the judge: never handed over to the fast scorer's worker.
    expect(fast.handedOver).toEqual([false]);
    const flat = await scorer.score({ image, name: '4.5-flat', prompt: 'a fox' });
    expect(flat.judge?.cascade).toMatchObject({ decidedBy: 'judge', reason: 'flat' });
    expect(events.map((e) => [e.outcome, e.reason])).toEqual([['judge', 'band'], ['judge', 'flat']]);
    expect(double!.chatRequests()).toHaveLength(12);
  });

  it('lets the fast verdict stand past the deadline, under the fast pack so that it is asked again later', async () => {
    const { scorer, events } = await cascade(400, { ...SETTINGS, deadlineMs: 100 });
    const started = Date.now();
    const result = await scorer.score({ image, name: '2.4', prompt: 'a fox' });
    expect(Date.now() - started).toBeLessThan(350);
    expect(result.mos).toBe(2.4);
    expect(result.pack).toEqual({ name: 'lite', version: '0.2.0' });
    expect(result.judge?.cascade).toMatchObject({ decidedBy: 'fast', reason: 'deadline', detail: 'the judge did not answer within 100 ms' });
    expect(events).toMatchObject([{ outcome: 'deadline', reason: 'band', fastMos: 2.4 }]);
  });

  it("hands a judge answer that came after the deadline to the request's lateAnswer, under the cascade's name", async () => {
    const { scorer, events, fast } = await cascade(400, { ...SETTINGS, deadlineMs: 100 });
    let resolveLate: (result: ScoreResult) => void = () => undefined;
    const late = new Promise<ScoreResult>((resolve) => (resolveLate = resolve));
    const answered = await scorer.score({ image, name: '2.4', prompt: 'a fox', lateAnswer: (result) => resolveLate(result) });
    expect(answered.judge?.cascade?.decidedBy).toBe('fast');
    const result = await late;
    expect(scoreResultSchema.parse(result)).toEqual(result);
    expect(result.pack).toEqual(scorer.pack);
    expect(result.mos).toBeCloseTo(3.592, 3);
    expect(result.judge?.cascade).toMatchObject({ decidedBy: 'judge', reason: 'band', fast: { mos: 2.4 }, detail: expect.stringMatching(/after the 100 ms deadline/) });
    expect(events.map((e) => e.outcome)).toEqual(['deadline', 'late']);
    expect(events[1]).toMatchObject({ judgeMos: result.mos, fastMos: 2.4 });
    // Neither half is given the callback: a worker could not take it, and the judge answers the cascade.
    expect(fast.lateAnswers).toEqual([false]);
  });

  it('lets the fast verdict stand when the judge fails, with its code', async () => {
    const { scorer, events } = await cascade();
    double!.set({ vision: false });
    const result = await scorer.score({ image, name: '2.6', prompt: 'a fox' });
    expect(result.mos).toBe(2.6);
    expect(result.judge?.cascade).toMatchObject({ decidedBy: 'fast', reason: 'judge-error', detail: expect.stringMatching(/\[AGQ_ERR_JUDGE_NO_VISION\]$/) });
    expect(events).toMatchObject([{ outcome: 'judge-error', code: 'AGQ_ERR_JUDGE_NO_VISION' }]);
  });

  it('scores a batch with the fast scorer first, then the judge for those in the band', async () => {
    const { scorer, events } = await cascade();
    const results = await scorer.scoreBatch([{ image, name: '4.0' }, { image, name: '2.5', prompt: 'a fox' }]);
    expect(results.map((r) => r.judge?.cascade?.decidedBy)).toEqual(['fast', 'judge']);
    expect(events.map((e) => e.outcome)).toEqual(['clear', 'judge']);
  });
});
