import Database from 'better-sqlite3';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { judge } from '../../src/policy/index.js';
import { Store, type NewGeneration } from '../../src/store/index.js';
import { fakeResult } from '../fixtures/server/fake-scorer.js';

const opened: Store[] = [];
afterEach(() => {
  for (const store of opened.splice(0)) store.close();
});

async function openStore(file = join(mkdtempSync(join(tmpdir(), 'agiqa-store-')), 'agiqa.db'), busyTimeoutMs = 200): Promise<Store> {
  const store = await Store.open(file, { busyTimeoutMs });
  opened.push(store);
  return store;
}

function generation(overrides: Partial<NewGeneration> = {}): NewGeneration {
  return { source: 'api', prompt: 'a cat', negativePrompt: null, imageSha256: 'a'.repeat(64), fileRef: 'cat.png', bytes: 123, ...overrides };
}

describe('Store', () => {
  it('stores a score with aspects, verdict and event, and finds it by image + prompt + pack version', async () => {
    const store = await openStore();
    const result = fakeResult({ mos: 3.4, prompt: 'a cat' });
    const verdict = judge(result, { thresholds: { overall: 3 } });
    const saved = await store.saveScore(generation({ external: { promptId: 'p1', node: '9', filename: 'ComfyUI_0001.png' } }), result, verdict);
    expect(saved.inserted).toBe(true);
    expect(saved.events[0]).toMatchObject({ type: 'generation.scored', data: { generationId: saved.generationId, mos: 3.4 } });

    const found = await store.findScore('a'.repeat(64), 'a cat', { name: 'fake', version: '1.0.0' });
    expect(found).toMatchObject({ generationId: saved.generationId, verdict });
    expect(found!.result).toEqual(result);
    expect(await store.findScore('a'.repeat(64), 'a dog', { name: 'fake', version: '1.0.0' })).toBeNull();
    expect(await store.findScore('a'.repeat(64), 'a cat', { name: 'fake', version: '2.0.0' })).toBeNull();

    const view = await store.getGeneration(saved.generationId);
    expect(view).toMatchObject({ external: { promptId: 'p1', node: '9', filename: 'ComfyUI_0001.png' }, image: { width: 64, bytes: 123 } });
    expect(view!.scores[0]!.verdict!.verdict).toBe('accept');
  });

  it('does not store a duplicate score twice', async () => {
    const store = await openStore();
    const result = fakeResult();
    const first = await store.saveScore(generation(), result, judge(result, { thresholds: {} }));
    const second = await store.saveScore(generation(), fakeResult({ mos: 1 }), judge(result, { thresholds: {} }));
    expect(second.inserted).toBe(false);
    expect(second.scoreId).toBe(first.scoreId);
    expect(second.result.mos).toBe(result.mos);
    expect(await store.eventsSince(0)).toHaveLength(1);
  });

  it('records lineage and filters history by prompt, verdict and since', async () => {
    const store = await openStore();
    const good = fakeResult({ mos: 4 });
    const bad = fakeResult({ mos: 1 });
    const policy = { thresholds: { overall: 2.5 } };
    const parent = await store.saveScore(generation({ imageSha256: '1'.repeat(64), prompt: 'red 100% car' }), bad, judge(bad, policy));
    const child = await store.saveScore(generation({ imageSha256: '2'.repeat(64), prompt: 'red 100% car', parentId: parent.generationId }), good, judge(good, policy));
    await store.saveScore(generation({ imageSha256: '3'.repeat(64), prompt: 'blue boat' }), good, judge(good, policy));

    expect((await store.getGeneration(child.generationId))!.parentId).toBe(parent.generationId);
    expect((await store.listGenerations({ prompt: '100%' })).map((g) => g.id)).toEqual([child.generationId, parent.generationId]);
    expect((await store.listGenerations({ prompt: '100_' })).length).toBe(0);
    expect((await store.listGenerations({ verdict: 'reject' })).map((g) => g.id)).toEqual([parent.generationId]);
    expect((await store.listGenerations({ since: parent.generationId })).length).toBe(2);
    expect((await store.listGenerations({ limit: 1 })).length).toBe(1);
  });

  it('finds generations by their exact external prompt id and node', async () => {
    const store = await openStore();
    const result = fakeResult();
    const verdict = judge(result, { thresholds: {} });
    const a = await store.saveScore(generation({ imageSha256: '4'.repeat(64), external: { promptId: 'p-1', node: '9' } }), result, verdict);
    const b = await store.saveScore(generation({ imageSha256: '5'.repeat(64), external: { promptId: 'p-1', node: '10' } }), result, verdict);
    await store.saveScore(generation({ imageSha256: '6'.repeat(64), external: { promptId: 'p-10', node: '9' } }), result, verdict);
    expect((await store.listGenerations({ promptId: 'p-1' })).map((g) => g.id)).toEqual([b.generationId, a.generationId]);
    expect((await store.listGenerations({ promptId: 'p-1', node: '9' })).map((g) => g.id)).toEqual([a.generationId]);
    expect(await store.listGenerations({ promptId: 'p-' })).toEqual([]);
  });

  it('appends a verdict event only when the verdict changes', async () => {
    const store = await openStore();
    const result = fakeResult({ mos: 3 });
    const saved = await store.saveScore(generation(), result, judge(result, { thresholds: { overall: 2 } }));
    expect(await store.saveVerdict(saved.generationId, saved.scoreId, saved.verdict!)).toBeNull();
    const event = await store.saveVerdict(saved.generationId, saved.scoreId, judge(result, { thresholds: { overall: 4 } }));
    expect(event).toMatchObject({ type: 'generation.verdict' });
    expect((await store.eventsSince(0)).map((e) => e.id)).toEqual([1, 2]);
    expect((await store.eventsSince(1)).map((e) => e.id)).toEqual([2]);
  });

  it('answers AGQ_ERR_STORE_LOCKED when another process holds the write lock, and recovers after', async () => {
    const store = await openStore(undefined, 100);
    const other = new Database(store.file);
    other.exec('BEGIN EXCLUSIVE');
    try {
      const result = fakeResult();
      await expect(store.saveScore(generation(), result, judge(result, { thresholds: {} }))).rejects.toMatchObject({ code: 'AGQ_ERR_STORE_LOCKED' });
      const health = await store.health();
      expect(health.ok).toBe(false);
      if (!health.ok) expect(health.error.message).toContain('locked');
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    expect((await store.health()).ok).toBe(true);
  });
});
