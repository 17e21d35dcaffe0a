import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { HEAP_GROWING_PERCENT, heapGrowthFlag } from '../../src/scoring/heap-growth.js';

describe('heapGrowthFlag', () => {
  it('sets a fixed growing factor unless AGIQA_GC_TUNING opts out', () => {
    expect(heapGrowthFlag({})).toBe(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
    expect(heapGrowthFlag({ AGIQA_GC_TUNING: 'on' })).toBe(`--heap-growing-percent=${HEAP_GROWING_PERCENT}`);
    for (const off of ['off', 'OFF', '0', 'false', 'no']) expect(heapGrowthFlag({ AGIQA_GC_TUNING: off })).toBeNull();
  });
});

describe('tuneHeapGrowth', () => {
  // In a process of its own, since V8 flags are per process. (Its effect on collections under load is a
  // benchmark figure, docs/server.md, not something a unit test can time.)
  const tuned = (env: Record<string, string>) => {
    const script = `
      const { tuneHeapGrowth } = await import(${JSON.stringify(new URL('../../src/scoring/heap-growth.ts', import.meta.url).href)});
      console.log(JSON.stringify([tuneHeapGrowth(), tuneHeapGrowth()]));`;
    const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env: { ...process.env, ...env }, encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    return JSON.parse(run.stdout.trim().split('\n').at(-1)!) as boolean[];
  };

  it('sets the flag once for the process, or not at all when opted out', () => {
    expect(tuned({ AGIQA_GC_TUNING: '' })).toEqual([true, true]);
    expect(tuned({ AGIQA_GC_TUNING: 'off' })).toEqual([false, false]);
  });
});
