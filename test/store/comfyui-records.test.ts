// The ComfyUI bridge's tables: the cursor, one row per file, lineage and the ranking view.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { judge } from '../../src/policy/index.js';
import { Store } from '../../src/store/index.js';
import { fakeResult } from '../fixtures/server/fake-scorer.js';

const opened: Store[] = [];
afterEach(() => {
  for (const store of opened.splice(0)) store.close();
});

async function openStore(file = join(mkdtempSync(join(tmpdir(), 'agiqa-comfy-store-')), 'agiqa.db')): Promise<Store> {
  const store = await Store.open(file);
  opened.push(store);
  return store;
}

const A = 'http://127.0.0.1:8188';
const B = 'http://127.0.0.1:8189';
const file = (filename: string) => ({ filename, subfolder: '', type: 'output' });

async function scored(store: Store, sha: string, mos: number) {
  const result = fakeResult({ mos, sha256: sha });
  return store.saveScore({ source: 'comfyui', prompt: 'p', negativePrompt: null, imageSha256: sha, fileRef: null, bytes: 1 }, result, judge(result, { thresholds: { overall: 2.5 } }));
}

describe('ComfyRecords', () => {
  it('keeps the cursor per instance across reopening the file', async () => {
    const store = await openStore();
    await store.comfyui.markPromptHandled(A, 'p1', 'success');
    await store.comfyui.markPromptHandled(B, 'p2', 'error');
    const path = store.file;
    store.close();
    const again = await openStore(path);
    expect([...(await again.comfyui.handledPrompts(A))]).toEqual(['p1']);
    expect([...(await again.comfyui.handledPrompts(B))]).toEqual(['p2']);
  });

  it('records an output once per (instance, filename, subfolder, type)', async () => {
    const store = await openStore();
    const first = await store.comfyui.recordOutput({ instance: A, promptId: 'p1', node: '9', ...file('a.png'), batchIndex: 0, generationId: null, scoreId: null, errorCode: 'AGQ_ERR_IMAGE_CORRUPT' });
    const repeat = await store.comfyui.recordOutput({ instance: A, promptId: 'p2', node: '9', ...file('a.png'), batchIndex: 0, generationId: null, scoreId: null, errorCode: null });
    expect(repeat).toEqual(first);
    expect(await store.comfyui.findOutput(A, file('a.png'))).toMatchObject({ promptId: 'p1', errorCode: 'AGQ_ERR_IMAGE_CORRUPT' });
    expect(await store.comfyui.findOutput(A, { ...file('a.png'), type: 'temp' })).toBeNull();
    expect(await store.comfyui.findOutput(B, file('a.png'))).toBeNull();
    expect(await store.comfyui.outputCount(A)).toEqual({ scored: 0, failed: 1 });
  });

  it('keeps lineage through handling, counts the budget per original and forgets refused regenerations', async () => {
    const store = await openStore();
    await store.comfyui.recordRegeneration(A, { promptId: 'r1', rootPromptId: 'p1', parentPromptId: 'p1', parentGenerationId: null, attempt: 1 });
    await store.comfyui.recordRegeneration(A, { promptId: 'r2', rootPromptId: 'p1', parentPromptId: 'r1', parentGenerationId: null, attempt: 2 });
    expect(await store.comfyui.handledPrompts(A)).toEqual(new Set());
    await store.comfyui.markPromptHandled(A, 'r1', 'success');
    expect(await store.comfyui.lineage(A, 'r1')).toEqual({ promptId: 'r1', rootPromptId: 'p1', parentPromptId: 'p1', parentGenerationId: null, attempt: 1, status: 'success' });
    expect(await store.comfyui.regenerationCount(A, 'p1')).toBe(2);
    await store.comfyui.forgetRegeneration(A, 'r2');
    await store.comfyui.forgetRegeneration(A, 'r1'); // handled: kept
    expect(await store.comfyui.regenerationCount(A, 'p1')).toBe(1);
  });

  it('ranks a prompt by stored rank with MOS and latest verdict, and sees accepted attempts in the lineage', async () => {
    const store = await openStore();
    const low = await scored(store, 'a'.repeat(64), 1.5);
    const high = await scored(store, 'b'.repeat(64), 4);
    await store.comfyui.recordOutput({ instance: A, promptId: 'p1', node: '9', ...file('1.png'), batchIndex: 0, generationId: low.generationId, scoreId: low.scoreId, errorCode: null, rank: 2 });
    await store.comfyui.recordOutput({ instance: A, promptId: 'p1', node: '9', ...file('2.png'), batchIndex: 1, generationId: high.generationId, scoreId: high.scoreId, errorCode: null, rank: 1 });
    const ranking = await store.comfyui.ranking('p1');
    expect(ranking.map((o) => [o.filename, o.rank, o.mos, o.verdict?.verdict])).toEqual([
      ['2.png', 1, 4, 'accept'],
      ['1.png', 2, 1.5, 'reject'],
    ]);
    expect(await store.comfyui.lineageHasAccepted(A, 'p1')).toBe(true);
    expect(await store.comfyui.lineageHasAccepted(A, 'other')).toBe(false);
  });
});
