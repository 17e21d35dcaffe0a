import { describe, expect, it } from 'vitest';
import { scoreFresh, scoreInSlices, scoreSettled } from '../../src/pipeline/sliced-scoring.js';
import type { ScoreRequest } from '../../src/scoring/index.js';
import { FakeScorer } from '../fixtures/server/fake-scorer.js';

function requests(count: number): ScoreRequest[] {
  return Array.from({ length: count }, (_, index) => ({ image: Uint8Array.from([9, index * 10]), name: `image-${index}` }));
}

describe('sliced scoring', () => {
  it('scoreInSlices never hands the scorer more than a slice at once, and keeps the order', async () => {
    // The scorer refuses a fifth image in flight: a batch of 10 passes only in slices of 4.
    const scorer = new FakeScorer({ capacity: 4, delayMs: 5 });
    const results = await scoreInSlices(scorer, requests(10), 4);
    expect(scorer.batchCalls).toBe(3);
    expect(results.map((result) => result.mos)).toEqual(Array.from({ length: 10 }, (_, index) => ((index * 10) % 50) / 10));
    await expect(scoreInSlices(new FakeScorer({ capacity: 4, delayMs: 5 }), requests(5), 5)).rejects.toMatchObject({ code: 'AGQ_ERR_QUEUE_FULL' });
  });

  it('scoreSettled keeps each failure its own', async () => {
    const scorer = new FakeScorer({ capacity: 2, delayMs: 5 });
    const settled = await scoreSettled(scorer, requests(5), 2);
    expect(settled.map((item) => item.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled']);
    const crowded = await scoreSettled(new FakeScorer({ capacity: 2, delayMs: 5 }), requests(3), 3);
    expect(crowded.map((item) => item.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
  });

  it('scoreFresh puts early scores and the rest back in batch order, and waits for the early ones when they took all the room', async () => {
    const scorer = new FakeScorer({ capacity: 2, delayMs: 10 });
    const [first, second] = requests(2);
    // Two scores started early hold the whole capacity (2): the third image must wait for them.
    const early = [scorer.score(first!), null, scorer.score(second!)];
    const [third] = requests(5).slice(4);
    const settled = await scoreFresh(scorer, { early, requests: [third!], room: 0, capacity: 2, partial: false });
    expect(settled.map((item) => (item.status === 'fulfilled' ? item.value.mos : null))).toEqual([0, 4, 1]);
    expect(scorer.maxInFlight).toBe(2);
    const failing = new FakeScorer({ fail: new Error('worker died') });
    const partial = await scoreFresh(failing, { early: [null, Promise.resolve((await scoreInSlices(scorer, [first!], 1))[0]!)], requests: [second!], room: 1, capacity: 2, partial: true });
    expect(partial.map((item) => item.status)).toEqual(['rejected', 'fulfilled']);
    await expect(scoreFresh(failing, { early: [null], requests: [second!], room: 1, capacity: 2, partial: false })).rejects.toThrow('worker died');
  });
});
