// Object checks as a correspondence judgement of their own (lite) and beside CLIP's zero-shot round:
// when the detector runs, what the checks say on generated scenes with a known truth, and the rule that
// lets failed checks cap CLIP's level.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImage, type DecodedImage } from '../../src/image/index.js';
import { ObjectDetector } from '../../src/model/object-detector.js';
import { loadPack } from '../../src/model/packs.js';
import { ClipScorer } from '../../src/scoring/clip-scorer.js';
import { aspectScoreFromLogits } from '../../src/scoring/levels.js';
import { combineCorrespondence, objectCorrespondence } from '../../src/scoring/object-correspondence.js';
import type { RoundOutput, RoundsPredictor } from '../../src/scoring/rounds/round.js';
import { scoreResultSchema, type AspectResult } from '../../src/scoring/score-result.js';
import { installTinyClip } from '../fixtures/tiny-clip/install.js';

// scene-0011: one horse (tuxpaint stamp) on a generated background; truth in test/fixtures/detection/truth.jsonl.
const HORSE_SCENE = fileURLToPath(new URL('../fixtures/detection/scene-0011.jpg', import.meta.url));

function checksRound(mos: number, text = 'no cat found'): RoundOutput {
  return {
    aspect: 'correspondence',
    logits: [0, 0, 0, 0, 0],
    mos,
    findings: [{ aspect: 'correspondence', code: mos < 4.5 ? 'object-present' : 'objects-match', text, severity: mos < 4.5 ? 'major' : 'info' }],
    evidence: [],
  };
}

const asAspect = (r: RoundOutput): AspectResult => aspectScoreFromLogits(r.logits, r.mos);
const clipAt = (mos: number): AspectResult => aspectScoreFromLogits([0, 0, 0, 0, 0], mos);

describe('combineCorrespondence', () => {
  it('leaves CLIP alone when nothing was checked', () => {
    expect(combineCorrespondence(clipAt(4.2), null, asAspect)).toEqual({ aspect: clipAt(4.2), findings: [] });
  });

  it('keeps CLIP when every check passes, high or low, and appends the checks finding', () => {
    for (const mos of [1.2, 4.8]) {
      const out = combineCorrespondence(clipAt(mos), checksRound(4.5, 'all 1 object checks pass'), asAspect);
      expect(out.aspect.mos).toBe(mos);
      expect(out.findings.map((f) => f.code)).toEqual(['objects-match']);
    }
  });

  it('caps CLIP at the checks level when a check fails', () => {
    const out = combineCorrespondence(clipAt(4.6), checksRound(2.5, 'asked for 2 dogs, found 1'), asAspect);
    expect(out.aspect).toMatchObject({ mos: 2.5, level: 'fair' });
    expect(out.findings.map((f) => f.text)).toEqual(['asked for 2 dogs, found 1']);
  });

  it('keeps a CLIP judgement already below the failed checks', () => {
    expect(combineCorrespondence(clipAt(1.1), checksRound(2.5), asAspect).aspect.mos).toBe(1.1);
  });
});

describe('object checks with the lite pack detector', () => {
  let detector: ObjectDetector;
  let horseScene: DecodedImage;
  beforeAll(async () => {
    detector = (await ObjectDetector.load(await loadPack('lite'), 1))!;
    horseScene = await decodeImage(await readFile(HORSE_SCENE), 'scene-0011.jpg');
  });
  afterAll(async () => detector.close());

  it('passes the horse the scene shows and fails the cat it does not', async () => {
    const horse = await objectCorrespondence(detector, horseScene, 'a photo of a horse', false);
    expect(horse.round).toMatchObject({ mos: 4.5 });
    expect(horse.detections!.some((d) => d.label === 'horse' && d.score >= 0.25)).toBe(true);
    const cat = await objectCorrespondence(detector, horseScene, 'a photo of a cat', false);
    expect(cat.round).toMatchObject({ mos: 0.5 });
    expect(cat.round!.findings.map((f) => f.text)).toContain('no cat found');
  });

  it('does not run the detector when nothing is checkable and no boxes are asked for', async () => {
    expect(await objectCorrespondence(detector, horseScene, 'a castle at dusk', false)).toMatchObject({
      round: null,
      reason: expect.stringMatching(/'castle'.*outside its 80 COCO classes/),
      detections: undefined,
    });
    expect(await objectCorrespondence(detector, horseScene, null, false)).toEqual({ round: null, reason: null, detections: undefined, detectorMs: undefined });
    const boxesOnly = await objectCorrespondence(detector, horseScene, null, true);
    expect(boxesOnly.round).toBeNull();
    expect(boxesOnly.detections!.length).toBeGreaterThan(0);
  });

  it('caps the CLIP pack correspondence when the prompt names an object the picture lacks', async () => {
    const { dir } = await installTinyClip();
    const pack = await loadPack('tiny-clip', { packDir: dir });
    const bytes = await readFile(HORSE_SCENE);
    // A predictor that is sure the picture matches its prompt: what the checks must overrule.
    const predictor: RoundsPredictor = { predict: async () => ({ correspondence: { logits: [-4, -2, 0, 2, 4], mos: 4.6 } }), close: async () => {} };
    const plain = await ClipScorer.create(pack, { threads: 1, predictor });
    const checked = await ClipScorer.create(pack, { threads: 1, predictor, detector: (await ObjectDetector.load(await loadPack('lite'), 1))! });
    try {
      const request = { image: bytes, name: 'scene-0011.jpg', prompt: 'a photo of a cat' };
      const [without, withChecks] = [await plain.score(request), await checked.score(request)];
      expect(scoreResultSchema.parse(withChecks)).toEqual(withChecks);
      // The missing cat caps the predictor's "excellent" at the checks' 0.5.
      expect(without.aspects.correspondence).toMatchObject({ mos: 4.6, level: 'excellent' });
      expect(withChecks.aspects.correspondence).toMatchObject({ mos: 0.5, level: 'bad' });
      expect(withChecks.findings.filter((f) => f.code.startsWith('object')).map((f) => f.text)).toEqual(['no cat found']);
      expect(withChecks.aspects.quality).toEqual(without.aspects.quality);
      expect(withChecks.detections!.some((d) => d.label === 'horse')).toBe(true);
      // The horse it does show passes, and CLIP's own level stands.
      const horse = await checked.score({ ...request, prompt: 'a photo of a horse' });
      expect(horse.aspects.correspondence).toEqual((await plain.score({ ...request, prompt: 'a photo of a horse' })).aspects.correspondence);
      expect(horse.findings.map((f) => f.code)).toContain('objects-match');
    } finally {
      await Promise.all([plain.close(), checked.close()]);
    }
  });
});
