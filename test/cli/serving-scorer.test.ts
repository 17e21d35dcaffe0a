// The scorer `agiqa serve` builds from the config: the pack alone, or with `cascade` the lite pack and
// a judge pack composed, its outcomes counted in the server's /metrics registry.
import pino from 'pino';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createServingScorer } from '../../src/cli/serving-scorer.js';
import { configSchema } from '../../src/config/config-schema.js';
import { CascadeScorer } from '../../src/scoring/index.js';
import { greyPng } from '../fixtures/datasets/make-images.js';
import { startJudgeDouble, type RunningDouble } from '../fixtures/judge/judge-double.js';
import { makeJudgePack } from '../fixtures/judge/judge-pack.js';

let double: RunningDouble | undefined;
afterEach(async () => {
  await double?.close();
  double = undefined;
});

describe('createServingScorer', () => {
  it('composes the cascade from the config and counts its outcomes in /metrics', async () => {
    double = await startJudgeDouble({ flavor: 'ollama' });
    const { home } = await makeJudgePack(double.url, { flavor: 'ollama' });
    // A band covering the whole scale: every image goes to the judge.
    const config = configSchema.parse({ home, pack: 'lite', queue: { workers: 1 }, cascade: { judge: 'judge-test', band: 5 } });
    expect(config.cascade).toEqual({ judge: 'judge-test', band: 5, flatEntropy: 0.9, deadlineMs: 20_000 });
    const serving = createServingScorer(config, pino({ level: 'silent' }));
    const registry = new Registry();
    serving.registerMetrics(registry);
    const scorer = await serving.scorer;
    try {
      expect(scorer).toBeInstanceOf(CascadeScorer);
      const result = await scorer.score({ image: await greyPng(3), name: 'grey.png', prompt: 'a grey card' });
      expect(result.judge?.cascade).toMatchObject({ decidedBy: 'judge', reason: 'band', fast: { pack: 'lite' } });
      expect(await registry.metrics()).toContain('agiqa_cascade_total{outcome="judge",reason="band"} 1');
    } finally {
      await scorer.close();
    }
  });

  it('refuses a cascade config with unknown keys or a band off the scale', () => {
    expect(configSchema.safeParse({ cascade: { judge: 'j', band: 6 } }).success).toBe(false);
    expect(configSchema.safeParse({ cascade: { judge: 'j', deadline: 5 } }).success).toBe(false);
    expect(configSchema.safeParse({ cascade: { band: 1 } }).success).toBe(false);
  });
});
