import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { promptRanking } from '../../../src/bridges/comfyui/rerank.js';
import { Store } from '../../../src/store/index.js';
import { fakeResult } from '../../fixtures/server/fake-scorer.js';

describe('promptRanking', () => {
  it('orders a batch by its stored rank, failures last, and keeps the accepted top-k', async () => {
    const store = await Store.open(join(mkdtempSync(join(tmpdir(), 'agiqa-rerank-')), 'agiqa.db'));
    try {
      const instance = 'http://127.0.0.1:8188';
      const outputs = [
        { mos: 2.8, rank: 2, verdict: 'accept' as const },
        { mos: 4.6, rank: 1, verdict: 'accept' as const },
        { mos: null, rank: null, verdict: null },
      ];
      for (const [index, output] of outputs.entries()) {
        let ids: { generationId: number | null; scoreId: number | null } = { generationId: null, scoreId: null };
        if (output.mos !== null) {
          const saved = await store.saveScore(
            { source: 'comfyui', prompt: 'p', negativePrompt: null, imageSha256: String(index).repeat(64), fileRef: null, bytes: 1 },
            fakeResult({ mos: output.mos }),
            { verdict: output.verdict!, reasons: [], notJudged: [] },
          );
          ids = { generationId: saved.generationId, scoreId: saved.scoreId };
        }
        const file = { filename: `out_${index}.png`, subfolder: '', type: 'output' };
        await store.comfyui.recordOutput({ instance, promptId: 'p1', node: '9', ...file, batchIndex: index, ...ids, errorCode: output.mos === null ? 'AGQ_ERR_IMAGE_CORRUPT' : null, rank: output.rank });
      }
      const ranking = await promptRanking(store, 'p1', { topK: 1 });
      expect(ranking!.batches[0]!.order.map((o) => o.batchIndex)).toEqual([1, 0, 2]);
      expect(ranking!.batches[0]!.topK.map((o) => o.batchIndex)).toEqual([1]);
      expect(await promptRanking(store, 'unknown', {})).toBeNull();
    } finally {
      store.close();
    }
  });
});
