import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { judge } from '../../src/policy/index.js';
import { lookUpBatch } from '../../src/pipeline/batch-lookup.js';
import { imageSha256, type EarlyScore, type PipelineImage } from '../../src/pipeline/index.js';
import { Store } from '../../src/store/index.js';
import { fakeResult } from '../fixtures/server/fake-scorer.js';

let store: Store | null = null;
afterEach(() => {
  store?.close();
  store = null;
});

const image = (last: number): PipelineImage => ({ image: Uint8Array.from([3, 1, 4, last]), name: `i${last}`, fileRef: null });
const PACK = { name: 'fake', version: '1.0.0' };

describe('lookUpBatch', () => {
  it('finds stored scores, scores a repeat once, skips failed images and trusts what early scores looked up', async () => {
    store = await Store.open(join(mkdtempSync(join(tmpdir(), 'agiqa-lookup-')), 'agiqa.db'));
    const stored = image(1);
    const result = fakeResult();
    await store.saveScore({ source: 'api', prompt: 'a cat', negativePrompt: null, imageSha256: await imageSha256(stored), fileRef: null, bytes: 4 }, result, judge(result, { thresholds: {} }));
    // The early image's buffer already went to a worker: its hash and size come from the early score.
    const moved: PipelineImage = { image: new Uint8Array(0), name: 'moved', fileRef: null };
    const early: EarlyScore = { result: Promise.resolve(result), hash: 'e'.repeat(64), bytes: 12, done: () => undefined };
    const images = [stored, image(2), image(2), image(3), moved];
    const lookup = await lookUpBatch(images, [null, null, null, null, early], new Map([[3, 'too large']]), { store, pack: PACK, limits: { maxBytes: 100, maxPixels: 100 }, prompt: 'a cat' });
    expect(lookup.stored.map((score) => score !== null)).toEqual([true, false, false, false, false]);
    expect(lookup.toScore).toEqual([1, 4]);
    expect(lookup.firstIndexOfHash.get(lookup.hashes[2]!)).toBe(1);
    expect(lookup.hashes[4]).toBe('e'.repeat(64));
    expect(lookup.sizes).toEqual([4, 4, 4, 4, 12]);
    // Under another prompt nothing is stored yet.
    const other = await lookUpBatch([stored], [null], new Map(), { store, pack: PACK, limits: { maxBytes: 100, maxPixels: 100 }, prompt: 'a dog' });
    expect(other.toScore).toEqual([0]);
  });
});
