import { describe, expect, it } from 'vitest';
import { withTransformersEnv } from '../../../src/model/clip/transformers-env.js';

describe('withTransformersEnv', () => {
  it('runs tasks one after another, in call order, passing results and errors through', async () => {
    const events: string[] = [];
    const task = (name: string, ms: number, fail = false) => async () => {
      events.push(`start ${name}`);
      await new Promise((resolve) => setTimeout(resolve, ms));
      events.push(`end ${name}`);
      if (fail) throw new Error(`${name} failed`);
      return name;
    };
    const results = await Promise.allSettled([withTransformersEnv(task('a', 30)), withTransformersEnv(task('b', 1, true)), withTransformersEnv(task('c', 1))]);
    expect(events).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as Error).message))).toEqual(['a', 'b failed', 'c']);
  });
});
