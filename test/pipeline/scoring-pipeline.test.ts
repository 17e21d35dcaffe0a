import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ScoringPipeline, type PipelineImage, type PipelineMetrics, type ThumbnailSink } from '../../src/pipeline/index.js';
import type { ScoreRequest } from '../../src/scoring/index.js';
import type { StoredEvent } from '../../src/store/index.js';
import { Store } from '../../src/store/index.js';
import { FakeScorer } from '../fixtures/server/fake-scorer.js';

let store: Store | null = null;
afterEach(() => {
  store?.close();
  store = null;
});

function image(last: number, name = `image-${last}`): PipelineImage {
  return { image: Uint8Array.from([1, 2, 3, last]), name, fileRef: name };
}

async function pipelineWith(scorer = new FakeScorer(), capacity = 8, thumbnails?: ThumbnailSink) {
  store = await Store.open(join(mkdtempSync(join(tmpdir(), 'agiqa-pipeline-')), 'agiqa.db'));
  const counts = { scores: 0, cacheHits: 0, rejected: 0 };
  const metrics: PipelineMetrics = { scores: { inc: () => (counts.scores += 1) }, cacheHits: { inc: () => (counts.cacheHits += 1) }, rejectedBusy: { inc: () => (counts.rejected += 1) } };
  const events: StoredEvent[] = [];
  const pipeline = new ScoringPipeline({
    scorer,
    store,
    policy: { thresholds: { overall: 2.5 } },
    capacity,
    timeoutMs: 10_000,
    limits: { maxBytes: 1_000, maxPixels: 1_000_000 },
    metrics,
    publish: (stored) => events.push(...stored),
    thumbnails,
  });
  await new Promise((resolve) => setImmediate(resolve));
  return { pipeline, counts, events, store };
}

describe('ScoringPipeline', () => {
  it("asks a scorer that makes thumbnails for the sink's thumbnail, and tells the sink when the scorer makes none", async () => {
    const seen: { sha256: string; scorerMakes: boolean }[] = [];
    const asked = { size: 64, made: () => undefined };
    const sink: ThumbnailSink = {
      forImage: (sha256, _image, scorerMakes) => {
        seen.push({ sha256, scorerMakes });
        return scorerMakes ? asked : undefined;
      },
    };
    class MakingScorer extends FakeScorer {
      readonly makesThumbnails = true;
      requests: ScoreRequest[] = [];
      override score(request: ScoreRequest) {
        this.requests.push(request);
        return super.score(request);
      }
    }
    const making = new MakingScorer();
    const first = await pipelineWith(making, 8, sink);
    await first.pipeline.scoreOne(image(30), {}, first.pipeline.admit(1));
    await first.pipeline.rankBatch([image(31)], {}, {}, first.pipeline.admit(1));
    expect(seen.map((entry) => entry.scorerMakes)).toEqual([true, true]);
    expect(making.requests.map((request) => request.thumbnail)).toEqual([asked, asked]);
    store?.close();
    const plain = new MakingScorer();
    Object.defineProperty(plain, 'makesThumbnails', { value: undefined });
    const second = await pipelineWith(plain, 8, sink);
    await second.pipeline.scoreOne(image(32), {}, second.pipeline.admit(1));
    expect(seen[2]!.scorerMakes).toBe(false);
    expect(plain.requests[0]!.thumbnail).toBeUndefined();
  });

  it('a batch of one is rank 1, the same in both batch forms', async () => {
    const { pipeline } = await pipelineWith();
    const ranked = await pipeline.rankBatch([image(40)], {}, {}, pipeline.admit(1));
    expect(ranked.items[0]!.rank).toBe(1);
    const items = await pipeline.scoreBatch([image(41)], {}, {}, pipeline.admit(1));
    expect(items[0]).toMatchObject({ ok: true, rank: 1 });
  });

  it('is busy from admission until the batch is stored (background work waits for that)', async () => {
    const { pipeline } = await pipelineWith(new FakeScorer({ delayMs: 50 }));
    expect(pipeline.isBusy).toBe(false);
    const ticket = pipeline.admit(2);
    expect(pipeline.isBusy).toBe(true);
    const ranking = pipeline.rankBatch([image(50), image(51)], {}, {}, ticket);
    expect(pipeline.isBusy).toBe(true);
    await ranking;
    expect(pipeline.isBusy).toBe(false);
  });

  it('scoreBatch ranks the images that scored and reports the one that failed in its item', async () => {
    const { pipeline, counts, events } = await pipelineWith();
    const tooLarge: PipelineImage = { image: new Uint8Array(2_000), name: 'huge', fileRef: null };
    const items = await pipeline.scoreBatch([image(30), tooLarge, image(45)], { source: 'comfyui' }, { deadline: false }, await pipeline.admitWhenFree(3));
    expect(items.map((item) => item.ok)).toEqual([true, false, true]);
    expect(items[1]).toMatchObject({ ok: false, index: 1, error: { code: 'AGQ_ERR_IMAGE_TOO_LARGE' } });
    expect(items.filter((item) => item.ok).map((item) => (item.ok ? item.rank : 0))).toEqual([2, 1]);
    expect(counts.scores).toBe(2);
    expect(events.filter((event) => event.type === 'generation.scored')).toHaveLength(2);
    expect(pipeline.load.inFlight).toBe(0);
  });

  it('rankBatch answers a request whole or not at all', async () => {
    const { pipeline } = await pipelineWith();
    const tooLarge: PipelineImage = { image: new Uint8Array(2_000), name: 'huge', fileRef: null };
    await expect(pipeline.rankBatch([image(30), tooLarge], {}, {}, pipeline.admit(2))).rejects.toMatchObject({ code: 'AGQ_ERR_IMAGE_TOO_LARGE' });
    expect(pipeline.load.inFlight).toBe(0);
  });

  it('stores the prompt recovered from the image, with its source, and still finds the repeat', async () => {
    const scorer = new FakeScorer();
    const recovering = Object.assign(Object.create(scorer) as FakeScorer, {
      score: async (request: Parameters<FakeScorer['score']>[0]) => {
        const result = await scorer.score(request);
        return request.prompt === undefined ? { ...result, prompt: { text: 'a fox in the snow', source: 'embedded' as const } } : result;
      },
    });
    const { pipeline, counts } = await pipelineWith(recovering);
    const first = await pipeline.scoreOne(image(33), {}, pipeline.admit(1));
    const view = await store!.getGeneration(first.generationId);
    expect(view).toMatchObject({ prompt: 'a fox in the snow', promptSource: 'embedded' });
    expect((await store!.listGenerations({ prompt: 'fox in the' })).map((g) => g.id)).toEqual([first.generationId]);
    const again = await pipeline.scoreOne(image(33), {}, pipeline.admit(1));
    expect(again).toMatchObject({ cached: true, generationId: first.generationId });
    expect(counts.cacheHits).toBe(1);
  });

  it("stores a result that comes after the answer (a cascade's late judge) as the latest score, publishes it and answers repeats from it", async () => {
    const fast = new FakeScorer();
    let deliver: () => void = () => undefined;
    // As a cascade does: the answer carries the fast pack's name, the late result the cascade's own.
    const cascade = Object.assign(Object.create(fast) as FakeScorer, {
      pack: { name: 'fake+judge', version: '1.0.0+j' },
      score: async (request: ScoreRequest) => {
        const answered = await fast.score({ ...request, lateAnswer: undefined });
        deliver = () => request.lateAnswer?.({ ...answered, mos: 4.4, level: 'good', pack: { name: 'fake+judge', version: '1.0.0+j' } });
        return answered;
      },
    });
    const { pipeline, events, counts } = await pipelineWith(cascade);
    const first = await pipeline.scoreOne(image(34), { prompt: 'a fox' }, pipeline.admit(1));
    expect(first.verdict.verdict).toBe('accept');
    const published = events.length;
    deliver();
    await pipeline.drain(5_000); // the late save is pending work, awaited like any other
    const view = await store!.getGeneration(first.generationId);
    expect(view!.scores.map((score) => [score.pack.name, score.mos])).toEqual([
      ['fake', first.result.mos],
      ['fake+judge', 4.4],
    ]);
    expect(events.length).toBeGreaterThan(published);
    expect(events.at(-1)).toMatchObject({ type: 'generation.scored', data: { generationId: first.generationId, mos: 4.4, pack: { name: 'fake+judge' } } });
    expect(counts.scores).toBe(1); // one image scored, whatever answered it
  });

  it('answers a repeat from the late result once it is stored', async () => {
    const fast = new FakeScorer();
    const cascade = Object.assign(Object.create(fast) as FakeScorer, {
      pack: { name: 'fake+judge', version: '1.0.0+j' },
      score: async (request: ScoreRequest) => {
        const answered = await fast.score({ ...request, lateAnswer: undefined });
        setImmediate(() => request.lateAnswer?.({ ...answered, mos: 1.2, level: 'poor', pack: { name: 'fake+judge', version: '1.0.0+j' } }));
        return answered;
      },
    });
    const { pipeline } = await pipelineWith(cascade);
    await pipeline.scoreOne(image(35), {}, pipeline.admit(1));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const again = await pipeline.scoreOne(image(35), {}, pipeline.admit(1));
    expect(again).toMatchObject({ cached: true, result: { mos: 1.2 }, verdict: { verdict: 'reject' } });
  });

  it('stores a given prompt as given', async () => {
    const { pipeline } = await pipelineWith();
    const scored = await pipeline.scoreOne(image(20), { prompt: 'a red car' }, pipeline.admit(1));
    expect(await store!.getGeneration(scored.generationId)).toMatchObject({ prompt: 'a red car', promptSource: 'argument' });
  });

  it('a burst waits in line through admitWhenFree: every image scored, none refused', async () => {
    const { pipeline, counts } = await pipelineWith(new FakeScorer({ delayMs: 5, capacity: 4 }), 4);
    let peak = 0;
    const batches = Array.from({ length: 10 }, (_, batch) =>
      (async () => {
        const release = await pipeline.admitWhenFree(3);
        peak = Math.max(peak, pipeline.load.inFlight);
        const images = [0, 1, 2].map((offset) => image(batch * 3 + offset + 1));
        return pipeline.scoreBatch(images, {}, { deadline: false }, release);
      })(),
    );
    const items = (await Promise.all(batches)).flat();
    expect(items.every((item) => item.ok)).toBe(true);
    expect(counts.scores).toBe(30);
    expect(counts.rejected).toBe(0);
    expect(peak).toBeLessThanOrEqual(4);
  });

  describe('enter(): admission after the body and the store lookup', () => {
    it('answers a stored image without taking room, even when the queue is full', async () => {
      const { pipeline } = await pipelineWith(new FakeScorer(), 1);
      const first = pipeline.enter();
      await pipeline.scoreOne(image(50), {}, first.ticket);
      first.leave();
      const holder = pipeline.admit(1); // the whole capacity is taken
      const again = pipeline.enter();
      await expect(pipeline.scoreOne(image(50), {}, again.ticket)).resolves.toMatchObject({ cached: true });
      await expect(pipeline.scoreOne(image(51), {}, again.ticket)).rejects.toMatchObject({ code: 'AGQ_ERR_QUEUE_FULL' });
      await expect(pipeline.rankBatch([image(50)], {}, {}, again.ticket)).resolves.toMatchObject({ items: [{ cached: true }] });
      again.leave();
      holder();
      expect(pipeline.load.inFlight).toBe(0);
    });

    it('serves a request accepted before shutdown began, refuses new ones, and drain waits for it', async () => {
      const { pipeline } = await pipelineWith(new FakeScorer({ delayMs: 50 }));
      const accepted = pipeline.enter(); // its body is still arriving when shutdown begins
      const draining = pipeline.drain(5_000);
      expect(() => pipeline.enter()).toThrow(expect.objectContaining({ code: 'AGQ_ERR_SHUTTING_DOWN' }));
      await new Promise((resolve) => setTimeout(resolve, 30));
      const scored = await pipeline.scoreOne(image(52), {}, accepted.ticket);
      expect(scored.cached).toBe(false);
      accepted.leave();
      const started = Date.now();
      await draining;
      expect(Date.now() - started).toBeLessThan(1_000);
    });
  });
});

