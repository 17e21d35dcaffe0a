import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { comfyWorkflowToGraph, extractComfyPrompts } from '../../src/prompts/index.js';

const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`../fixtures/prompts/${name}.json`, import.meta.url), 'utf8'));

describe('comfyWorkflowToGraph', () => {
  for (const name of ['sdxl', 'flux', 'area_composition']) {
    it(`the real ${name} workflow yields the same prompts as its API graph`, () => {
      const fromWorkflow = extractComfyPrompts(comfyWorkflowToGraph(fixture(`comfyui-${name}-workflow`)));
      const fromGraph = extractComfyPrompts(fixture(`comfyui-${name}`));
      expect(fromWorkflow.positive).not.toBeNull();
      expect([fromWorkflow.positive, fromWorkflow.negative]).toEqual([fromGraph.positive, fromGraph.negative]);
    });
  }

  it('maps links (array and object forms), encoder widgets by order, and skips muted nodes', () => {
    const graph = comfyWorkflowToGraph({
      nodes: [
        { id: 1, type: 'CLIPTextEncodeSDXL', mode: 0, inputs: [{ name: 'clip', link: 9 }], widgets_values: [1024, 1024, 0, 0, 1024, 1024, 'g text', 'l text'] },
        { id: 2, type: 'CLIPTextEncode', mode: 2, inputs: [], widgets_values: ['muted'] },
        { id: 3, type: 'KSampler', mode: 0, inputs: [{ name: 'positive', link: 10 }, { name: 'negative', link: 11 }], widgets_values: [1, 'fixed'] },
      ],
      links: [
        [10, 1, 0, 3, 1, 'CONDITIONING'],
        { id: 11, origin_id: 2, origin_slot: 0, target_id: 3, target_slot: 2, type: 'CONDITIONING' },
      ],
    });
    expect(graph).toEqual({
      '1': { class_type: 'CLIPTextEncodeSDXL', inputs: { text_g: 'g text', text_l: 'l text' } },
      '3': { class_type: 'KSampler', inputs: { positive: ['1', 0], negative: ['2', 0] } },
    });
    expect(extractComfyPrompts(graph)).toMatchObject({ positive: 'g text | l text', negative: null });
  });

  it('returns null for what is not a workflow', () => {
    expect(comfyWorkflowToGraph(null)).toBeNull();
    expect(comfyWorkflowToGraph({ nodes: 'x' })).toBeNull();
    expect(comfyWorkflowToGraph({ nodes: [] })).toBeNull();
  });
});
