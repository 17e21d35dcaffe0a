// The warm-up a server's workers run before taking work: one generated image through every model of
// the pack, and never a failed worker start because of it.
import { describe, expect, it } from 'vitest';
import { loadPack } from '../../src/model/packs.js';
import { createPackScorer } from '../../src/scoring/pack-scorer.js';
import type { ScoreRequest } from '../../src/scoring/scorer.js';
import { WARM_UP_SIDE, warmUp } from '../../src/scoring/warm-up.js';

describe('warmUp', () => {
  it('scores raw pixels with a prompt and the detector asked for', async () => {
    const seen: ScoreRequest[] = [];
    await warmUp({ score: async (request) => (seen.push(request), undefined as never) });
    expect(seen).toHaveLength(1);
    const [request] = seen;
    expect(request!.pixels).toEqual({ width: WARM_UP_SIDE, height: WARM_UP_SIDE, channels: 3 });
    expect(request!.image.length).toBe(WARM_UP_SIDE * WARM_UP_SIDE * 3);
    expect(request!.detections).toBe(true);
    expect(request!.prompt).toBeTruthy();
  });

  it('resolves when the scorer fails: the first real image reports it', async () => {
    await expect(warmUp({ score: () => Promise.reject(new Error('broken pack')) })).resolves.toBeUndefined();
  });

  it('runs the embedded pack end to end, detector included', async () => {
    const scorer = await createPackScorer(await loadPack('lite'), { threads: 1 });
    let result: Awaited<ReturnType<typeof scorer.score>> | undefined;
    await warmUp({ score: async (request) => (result = await scorer.score(request)) });
    await scorer.close();
    expect(result?.mos).toBeGreaterThanOrEqual(0);
    expect(result?.detections).toBeDefined();
  });
});
