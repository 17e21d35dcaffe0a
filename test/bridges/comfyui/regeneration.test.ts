import { describe, expect, it } from 'vitest';
import { regenerationExtraData, reseedGraph } from '../../../src/bridges/comfyui/regeneration.js';
import { samplerGraph } from './harness.js';

describe('reseedGraph', () => {
  it('changes KSampler.seed, KSamplerAdvanced.noise_seed and RandomNoise.noise_seed, leaving the input graph alone', () => {
    const graph: Record<string, { class_type: string; inputs: Record<string, unknown> }> = {
      ...samplerGraph(1),
      '20': { class_type: 'KSamplerAdvanced', inputs: { noise_seed: 2, add_noise: 'enable' } },
      '21': { class_type: 'RandomNoise', inputs: { noise_seed: 3 } },
    };
    const { graph: copy, changes } = reseedGraph(graph, () => 0.25);
    expect(changes.map((c) => [c.nodeId, c.input, c.from])).toEqual([
      ['3', 'seed', 1],
      ['20', 'noise_seed', 2],
      ['21', 'noise_seed', 3],
    ]);
    expect(changes.every((c) => c.to === 2 ** 46)).toBe(true);
    expect(graph['3']!.inputs.seed).toBe(1);
    expect((copy['3'] as { inputs: { seed: number } }).inputs.seed).toBe(2 ** 46);
  });

  it('follows a linked seed to its primitive node, once even when two samplers share it', () => {
    const graph = {
      '1': { class_type: 'PrimitiveInt', inputs: { value: 42 } },
      '2': { class_type: 'KSampler', inputs: { seed: ['1', 0] } },
      '3': { class_type: 'KSampler', inputs: { seed: ['1', 0] } },
    };
    const { graph: copy, changes } = reseedGraph(graph, () => 0.5);
    expect(changes).toEqual([{ nodeId: '1', input: 'value', from: 42, to: 2 ** 47 }]);
    expect((copy['2'] as { inputs: { seed: unknown } }).inputs.seed).toEqual(['1', 0]);
  });

  it('never returns the same seed, and reports graphs without one', () => {
    const { changes } = reseedGraph({ '1': { class_type: 'KSampler', inputs: { seed: 0 } } }, () => 0);
    expect(changes[0]!.to).not.toBe(0);
    expect(reseedGraph({ '1': { class_type: 'SaveImage', inputs: {} } }).changes).toEqual([]);
  });

  it('carries only the embedded workflow over from extra_data', () => {
    expect(regenerationExtraData({ client_id: 'someone', extra_pnginfo: { workflow: { a: 1 } } })).toEqual({ extra_pnginfo: { workflow: { a: 1 } } });
    expect(regenerationExtraData(undefined)).toEqual({});
  });
});
