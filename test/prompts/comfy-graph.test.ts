import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { extractComfyPrompts, MAX_GRAPH_NODE_VISITS, type ComfyGraph } from '../../src/prompts/index.js';
import { diamondConcatGraph, diamondConditioningGraph, diamondSwitchGraph, randomDag } from '../fixtures/hostile/hostile-inputs.js';

const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`../fixtures/prompts/${name}.json`, import.meta.url), 'utf8'));

const clip = ['4', 1];

describe('extractComfyPrompts on real ComfyUI graphs', () => {
  it('SD1.5-style KSampler (aura_flow example)', () => {
    const r = extractComfyPrompts(fixture('comfyui-aura_flow'));
    expect(r.positive).toMatch(/^a glass filled with glowing fizzy rainbow drink/);
    expect(r.negative).toBe('ugly jpeg');
    expect(r.parts.map((p) => [p.nodeId, p.role])).toEqual([
      ['6', 'positive'],
      ['7', 'negative'],
    ]);
  });

  it('SDXL base + refiner: two KSamplerAdvanced with identical texts appear once', () => {
    const r = extractComfyPrompts(fixture('comfyui-sdxl'));
    expect(r.positive).toMatch(/^evening sunset scenery blue sky nature, glass bottle/);
    expect(r.positive).not.toContain(' | ');
    expect(r.negative).toBe('text, watermark');
    expect(r.parts).toHaveLength(2);
  });

  it('Flux: SamplerCustomAdvanced → BasicGuider → FluxGuidance → CLIPTextEncode', () => {
    const r = extractComfyPrompts(fixture('comfyui-flux'));
    expect(r.positive).toMatch(/^cute anime girl with massive fluffy fennec ears/);
    expect(r.negative).toBeNull();
    expect(r.parts[0]!.nodeId).toBe('6');
  });

  it('SD3.5 and Hunyuan: empty negative prompts give null, non-ASCII text survives', () => {
    expect(extractComfyPrompts(fixture('comfyui-sd3')).negative).toBeNull();
    const hunyuan = extractComfyPrompts(fixture('comfyui-hunyuan_dit'));
    expect(hunyuan.positive).toContain('彩虹星系');
    expect(hunyuan.negative).toBeNull();
  });

  it('area composition + second pass: every distinct prompt kept, joined with " | "', () => {
    const r = extractComfyPrompts(fixture('comfyui-area_composition'));
    const positives = r.parts.filter((p) => p.role === 'positive').map((p) => p.nodeId);
    expect(positives).toEqual(['48', '45', '6', '26']);
    expect(r.positive!.split(' | ')).toHaveLength(4);
    expect(r.parts.filter((p) => p.role === 'negative')).toHaveLength(1); // nodes 7 and 27 hold the same text
  });
});

describe('extractComfyPrompts on hand-built graphs', () => {
  it('CLIPTextEncodeSDXL: text_g and text_l, distinct ones both kept', () => {
    const graph: ComfyGraph = {
      '1': { class_type: 'CLIPTextEncodeSDXL', inputs: { text_g: 'a red fox', text_l: 'a red fox', width: 1024, height: 1024, clip } },
      '2': { class_type: 'CLIPTextEncodeSDXL', inputs: { text_g: 'blurry', text_l: 'lowres', clip } },
      '3': { class_type: 'KSampler', inputs: { positive: ['1', 0], negative: ['2', 0], seed: 1 } },
    };
    const r = extractComfyPrompts(graph);
    expect(r.positive).toBe('a red fox');
    expect(r.negative).toBe('blurry | lowres');
  });

  it('CLIPTextEncodeFlux and CLIPTextEncodeSD3 (the SD3 empty_padding option is not text)', () => {
    const flux = extractComfyPrompts({
      '1': { class_type: 'CLIPTextEncodeFlux', inputs: { clip_l: 'fox, forest', t5xxl: 'A fox in a forest.', guidance: 3.5, clip } },
      '2': { class_type: 'SamplerCustom', inputs: { positive: ['1', 0], negative: ['1', 0] } },
    });
    expect(flux.positive).toBe('fox, forest | A fox in a forest.');
    const sd3 = extractComfyPrompts({
      '1': { class_type: 'CLIPTextEncodeSD3', inputs: { clip_l: 'cat', clip_g: 'cat', t5xxl: 'a cat on a mat', empty_padding: 'none', clip } },
      '2': { class_type: 'ConditioningZeroOut', inputs: { conditioning: ['1', 0] } },
      '3': { class_type: 'KSampler', inputs: { positive: ['1', 0], negative: ['2', 0] } },
    });
    expect(sd3.positive).toBe('cat | a cat on a mat');
    expect(sd3.negative).toBeNull();
  });

  it('SamplerCustomAdvanced + CFGGuider, through ControlNetApplyAdvanced and timestep range', () => {
    const graph: ComfyGraph = {
      '10': { class_type: 'CLIPTextEncode', inputs: { text: 'castle on a hill', clip } },
      '11': { class_type: 'CLIPTextEncode', inputs: { text: 'people', clip } },
      '12': { class_type: 'ControlNetApplyAdvanced', inputs: { positive: ['10', 0], negative: ['11', 0], control_net: ['20', 0], image: ['21', 0], strength: 1 } },
      '13': { class_type: 'ConditioningSetTimestepRange', inputs: { conditioning: ['12', 1], start: 0, end: 1 } },
      '14': { class_type: 'CFGGuider', inputs: { model: ['30', 0], positive: ['12', 0], negative: ['13', 0], cfg: 4 } },
      '15': { class_type: 'SamplerCustomAdvanced', inputs: { noise: ['31', 0], guider: ['14', 0], sampler: ['32', 0], sigmas: ['33', 0], latent_image: ['34', 0] } },
    };
    const r = extractComfyPrompts(graph);
    expect(r.positive).toBe('castle on a hill');
    expect(r.negative).toBe('people');
  });

  it('DualCFGGuider: cond1 and cond2 are positive', () => {
    const r = extractComfyPrompts({
      '1': { class_type: 'CLIPTextEncode', inputs: { text: 'style: watercolor', clip } },
      '2': { class_type: 'CLIPTextEncode', inputs: { text: 'a lighthouse', clip } },
      '3': { class_type: 'CLIPTextEncode', inputs: { text: 'photo', clip } },
      '4': { class_type: 'DualCFGGuider', inputs: { cond1: ['1', 0], cond2: ['2', 0], negative: ['3', 0], cfg_conds: 8, cfg_cond2_negative: 8 } },
      '5': { class_type: 'SamplerCustomAdvanced', inputs: { guider: ['4', 0] } },
    });
    expect(r.positive).toBe('style: watercolor | a lighthouse');
    expect(r.negative).toBe('photo');
  });

  it('area composition with ConditioningSetArea and ConditioningCombine', () => {
    const r = extractComfyPrompts({
      '1': { class_type: 'CLIPTextEncode', inputs: { text: 'left: a cat', clip } },
      '2': { class_type: 'CLIPTextEncode', inputs: { text: 'right: a dog', clip } },
      '3': { class_type: 'ConditioningSetAreaPercentage', inputs: { conditioning: ['1', 0], width: 0.5, height: 1, x: 0, y: 0, strength: 1 } },
      '4': { class_type: 'ConditioningSetArea', inputs: { conditioning: ['2', 0], width: 512, height: 512, x: 512, y: 0, strength: 1 } },
      '5': { class_type: 'ConditioningCombine', inputs: { conditioning_1: ['3', 0], conditioning_2: ['4', 0] } },
      '6': { class_type: 'KSampler', inputs: { positive: ['5', 0], negative: ['7', 0] } },
      '7': { class_type: 'CLIPTextEncode', inputs: { text: 'bad', clip } },
    });
    expect(r.positive).toBe('left: a cat | right: a dog');
    expect(r.parts.map((p) => p.nodeId)).toEqual(['1', '2', '7']);
  });

  it('text linked from a primitive string node, through an unknown conditioning node', () => {
    const r = extractComfyPrompts({
      '1': { class_type: 'PrimitiveStringMultiline', inputs: { value: 'a misty\nmountain lake' } },
      '2': { class_type: 'CLIPTextEncode', inputs: { text: ['1', 0], clip } },
      '3': { class_type: 'MyCustomConditioningTweak', inputs: { conditioning: ['2', 0], amount: 0.3, clip } },
      '4': { class_type: 'KSampler', inputs: { positive: ['3', 0], negative: ['2', 0] } },
    });
    expect(r.positive).toBe('a misty\nmountain lake');
  });

  it('concat nodes join their string inputs with their delimiter, recursively', () => {
    const r = extractComfyPrompts({
      '1': { class_type: 'String Literal', inputs: { string: 'masterpiece' } },
      '2': { class_type: 'StringConcatenate', inputs: { string_a: ['1', 0], string_b: 'a red bicycle', delimiter: ', ' } },
      '3': { class_type: 'Text Concatenate', inputs: { text_a: ['2', 0], text_b: 'at dusk', delimiter: ' ', clean_whitespace: 'true' } },
      '4': { class_type: 'ShowText|pysssss', inputs: { text: ['3', 0] } },
      '5': { class_type: 'CLIPTextEncode', inputs: { text: ['4', 0], clip } },
      '6': { class_type: 'KSampler', inputs: { positive: ['5', 0], negative: ['5', 0] } },
    });
    expect(r.positive).toBe('masterpiece, a red bicycle at dusk');
  });

  it('a cycle in conditioning or text links terminates and keeps what it found', () => {
    const r = extractComfyPrompts({
      '1': { class_type: 'StringConcatenate', inputs: { string_a: 'loop start', string_b: ['2', 0], delimiter: ' ' } },
      '2': { class_type: 'StringConcatenate', inputs: { string_a: ['1', 0], string_b: 'loop end', delimiter: ' ' } },
      '3': { class_type: 'CLIPTextEncode', inputs: { text: ['1', 0], clip } },
      '4': { class_type: 'ConditioningCombine', inputs: { conditioning_1: ['5', 0], conditioning_2: ['3', 0] } },
      '5': { class_type: 'ConditioningCombine', inputs: { conditioning_1: ['4', 0], conditioning_2: ['3', 0] } },
      '6': { class_type: 'KSampler', inputs: { positive: ['4', 0], negative: ['5', 0] } },
    });
    expect(r.positive).toBe('loop start loop end');
    expect(r.negative).toBe('loop start loop end');
  });

  it('a custom sampler-like node is a root when no known sampler exists; no root at all falls back to encoders', () => {
    const custom = extractComfyPrompts({
      '1': { class_type: 'CLIPTextEncode', inputs: { text: 'a robot', clip } },
      '2': { class_type: 'CLIPTextEncode', inputs: { text: 'rust', clip } },
      '3': { class_type: 'KSampler (Efficient)', inputs: { positive: ['1', 0], negative: ['2', 0] } },
    });
    expect([custom.positive, custom.negative]).toEqual(['a robot', 'rust']);
    const loose = extractComfyPrompts({ '1': { class_type: 'CLIPTextEncode', inputs: { text: 'only text', clip } } });
    expect([loose.positive, loose.negative]).toEqual(['only text', null]);
  });

  it('malformed input yields nulls instead of throwing', () => {
    for (const bad of [null, 42, 'x', [], {}, { '1': { class_type: 'KSampler', inputs: { positive: ['9', 0] } } }]) {
      expect(extractComfyPrompts(bad)).toEqual({ positive: null, negative: null, parts: [], problem: null, nodesVisited: 0 });
    }
  });
});

describe('extractComfyPrompts: work linear in the graph, with a hard budget', () => {
  // Work is counted in nodes entered, not timed: a walk that revisits shared inputs shows at once.
  it('a diamond chain of text nodes 200 deep is entered once per node (2^200 walks before)', () => {
    const r = extractComfyPrompts(diamondSwitchGraph(200));
    expect(r).toMatchObject({ positive: null, negative: null, problem: null });
    expect(r.nodesVisited).toBeLessThanOrEqual(2 * 203);
  });

  it('a diamond chain of conditioning nodes 60 deep is entered once per node and role', () => {
    const r = extractComfyPrompts(diamondConditioningGraph(60));
    expect(r).toMatchObject({ positive: 'a lighthouse', negative: 'a lighthouse', problem: null });
    expect(r.nodesVisited).toBeLessThanOrEqual(2 * 63);
  });

  it('a concat chain doubling its text is read while it fits, and refused with a reason past the character budget', () => {
    const fits = extractComfyPrompts(diamondConcatGraph(12));
    expect(fits.positive).toBe('a'.repeat(4096));
    expect(fits.nodesVisited).toBeLessThanOrEqual(2 * 15);
    const over = extractComfyPrompts(diamondConcatGraph(40));
    expect(over).toMatchObject({ positive: null, negative: null, parts: [], problem: expect.stringMatching(/longer than 1048576 characters/) });
    expect(over.nodesVisited).toBeLessThanOrEqual(2 * 43);
  });

  it('stops at the node-visit budget with a reason', () => {
    const r = extractComfyPrompts(diamondSwitchGraph(200), { maxNodeVisits: 50, maxTextChars: 1e6 });
    expect(r).toMatchObject({ positive: null, problem: 'the ComfyUI graph needs more than 50 node visits to read', nodesVisited: 51 });
    expect(MAX_GRAPH_NODE_VISITS).toBe(20_000);
  });

  it('a cycle of text links yields no text instead of looping', () => {
    const r = extractComfyPrompts({
      '1': { class_type: 'StringConcatenate', inputs: { string_a: ['2', 0], string_b: 'x' } },
      '2': { class_type: 'StringConcatenate', inputs: { string_a: ['1', 0], string_b: 'y' } },
      '3': { class_type: 'CLIPTextEncode', inputs: { text: ['1', 0], clip } },
      '4': { class_type: 'KSampler', inputs: { positive: ['3', 0], negative: ['3', 0] } },
    });
    expect(r.positive).toBe('yx');
    expect(r.problem).toBeNull();
  });

  // Property: on random DAGs of every size, the nodes entered stay within a small multiple of the
  // graph's size (nodes + links), whatever its shape. Seeds are fixed so a failure can be replayed.
  it.each([10, 50, 200, 1000, 4000])('random DAGs of %i nodes: nodes entered ≤ 3 × (nodes + links)', (size) => {
    for (let seed = 1; seed <= 10; seed++) {
      const { graph, links } = randomDag(seed * 7919 + size, size);
      const r = extractComfyPrompts(graph);
      expect(r.problem === null || /characters/.test(r.problem), `seed ${seed}: ${r.problem}`).toBe(true);
      expect(r.nodesVisited, `seed ${seed}`).toBeLessThanOrEqual(3 * (size + links));
    }
  });
});
