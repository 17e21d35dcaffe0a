import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ScoringPipeline, type PipelineImage } from '../../src/pipeline/index.js';
import { Store } from '../../src/store/index.js';
import { FakeScorer, type FakeScorerOptions } from '../fixtures/server/fake-scorer.js';

let store: Store | null = null;
afterEach(() => {
  store?.close();
  store = null;
});

function image(last: number): PipelineImage {
  return { image: Uint8Array.from([5, 6, 7, last]), name: `frame-${last}`, fileRef: `frame-${last}` };
}

async function pipelineWith(options: FakeScorerOptions = {}, capacity = 8) {
  store = await Store.open(join(mkdtempSync(join(tmpdir(), 'agiqa-early-')), 'agiqa.db'));
  const scorer = new FakeScorer({ apart: true, delayMs: 20, ...options });
  const pipeline = new ScoringPipeline({ scorer, store, policy: { thresholds: { overall: 2.5 } }, capacity, timeoutMs: 10_000, limits: { maxBytes: 1_000, maxPixels: 1_000_000 } });
  await new Promise((resolve) => setImmediate(resolve));
  return { pipeline, scorer, store };
}

const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('EarlyScores', () => {
  it('starts each image as it is added, holding a slot; the batch uses those scores and stores them once', async () => {
    const { pipeline, scorer, store } = await pipelineWith();
    const { ticket, leave } = pipeline.enter();
    const early = pipeline.earlyScores({ prompt: 'a cat' }, ticket)!;
    const images = [image(10), image(40), image(30)];
    early.add(images[0]!);
    early.add(images[1]!);
    await settle(5);
    // Scoring began before the batch (its third image has not even arrived).
    expect(scorer.inFlight).toBe(2);
    expect(pipeline.load.inFlight).toBe(2);
    early.add(images[2]!);
    const ranked = await pipeline.rankBatch(images, { prompt: 'a cat' }, { early }, ticket);
    leave();
    expect(scorer.calls).toBe(3);
    expect(ranked.order).toEqual([1, 2, 0]);
    expect(ranked.items.map((item) => item.cached)).toEqual([false, false, false]);
    const stored = await store.listGenerations();
    expect(stored).toHaveLength(3);
    expect(stored.map((generation) => generation.image.bytes)).toEqual([4, 4, 4]);
    expect(pipeline.load.inFlight).toBe(0);
  });

  it('abandoned: the started images finish on the worker, nothing is stored, and their slots come back after', async () => {
    const { pipeline, scorer, store } = await pipelineWith({ delayMs: 60 });
    const { ticket, leave } = pipeline.enter();
    const early = pipeline.earlyScores({}, ticket)!;
    early.add(image(11));
    early.add(image(12));
    await settle(5);
    expect(scorer.inFlight).toBe(2);
    const abandoned = early.abandon();
    leave();
    await abandoned;
    // Still running: the slots stay taken until the worker is done with them.
    expect(pipeline.load.inFlight).toBe(2);
    await pipeline.drain(2_000);
    expect(scorer.inFlight).toBe(0);
    expect(pipeline.load.inFlight).toBe(0);
    expect(await store.listGenerations()).toHaveLength(0);
    expect(await store.eventsSince(0)).toHaveLength(0);
  });

  it('does not start an image with no room, one stored already or a repeat; the batch scores those as before', async () => {
    const { pipeline, scorer } = await pipelineWith({ delayMs: 5 }, 2);
    await pipeline.rankBatch([image(20)], {}, {}, pipeline.admit(1)); // stored now
    const { ticket, leave } = pipeline.enter();
    const early = pipeline.earlyScores({}, ticket)!;
    const images = [image(20), image(21), image(21), image(22), image(23)];
    for (const item of images) early.add(item);
    await settle(1);
    // 20 is stored, the second 21 repeats the first, and after 21 and 22 the capacity (2) is taken.
    expect(await early.count()).toBe(2);
    const ranked = await pipeline.rankBatch(images, {}, { early }, ticket);
    leave();
    expect(ranked.items.map((item) => item.cached)).toEqual([true, false, true, false, false]);
    expect(ranked.items[1]!.generationId).toBe(ranked.items[2]!.generationId);
    // The stored one before, the two started early, then 23 once their room was free again.
    expect(scorer.calls).toBe(1 + 2 + 1);
    expect(scorer.maxInFlight).toBeLessThanOrEqual(2);
    await pipeline.drain(2_000);
    expect(pipeline.load.inFlight).toBe(0);
  });

  it('is not offered for a scorer that encodes a batch together, nor for a batch that took its room already', async () => {
    const { pipeline } = await pipelineWith({ apart: false });
    expect(pipeline.earlyScores({}, pipeline.enter().ticket)).toBeNull();
    const apart = await pipelineWith();
    expect(apart.pipeline.earlyScores({}, apart.pipeline.admit(1))).toBeNull();
  });
});
