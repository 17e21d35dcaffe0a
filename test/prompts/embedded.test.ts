import { describe, expect, it } from 'vitest';
import { recoverPrompt } from '../../src/prompts/index.js';
import { deepJson, diamondConcatGraph, diamondSwitchGraph, longParameters } from '../fixtures/hostile/hostile-inputs.js';

const graph = JSON.stringify({
  '1': { class_type: 'CLIPTextEncode', inputs: { text: 'comfy text', clip: ['9', 1] } },
  '2': { class_type: 'KSampler', inputs: { positive: ['1', 0], negative: ['1', 0] } },
});

describe('recoverPrompt', () => {
  it('recognises a ComfyUI prompt graph, and prefers it to other keys', () => {
    expect(recoverPrompt({ prompt: graph, parameters: 'a1111 text' })).toEqual({
      source: 'comfyui',
      prompt: 'comfy text',
      negativePrompt: 'comfy text',
      problem: null,
    });
  });

  it('recognises A1111 parameters', () => {
    expect(recoverPrompt({ parameters: 'a dog\nNegative prompt: cat\nSteps: 1, Seed: 2' })).toEqual({
      source: 'a1111',
      prompt: 'a dog',
      negativePrompt: 'cat',
      problem: null,
    });
  });

  it('recognises InvokeAI metadata, new then legacy', () => {
    expect(recoverPrompt({ invokeai_metadata: '{"positive_prompt":"p","negative_prompt":""}' })).toEqual({
      source: 'invokeai',
      prompt: 'p',
      negativePrompt: null,
      problem: null,
    });
    expect(recoverPrompt({ 'sd-metadata': '{"image":{"prompt":"old"}}' }).source).toBe('invokeai');
  });

  it('a ComfyUI workflow without the API graph names the source but no prompt', () => {
    expect(recoverPrompt({ workflow: '{"nodes":[]}' })).toEqual({ source: 'comfyui', prompt: null, negativePrompt: null, problem: null });
  });

  it('unknown or non-graph text yields no source', () => {
    expect(recoverPrompt({ Software: 'GIMP', prompt: 'not json' })).toEqual({ source: null, prompt: null, negativePrompt: null, problem: null });
  });
});

describe('recoverPrompt from a UI workflow only', () => {
  it('recovers the prompt through comfyWorkflowToGraph', () => {
    const workflow = {
      nodes: [
        { id: 6, type: 'CLIPTextEncode', inputs: [], widgets_values: ['from the workflow'] },
        { id: 3, type: 'KSampler', inputs: [{ name: 'positive', link: 1 }], widgets_values: [] },
      ],
      links: [[1, 6, 0, 3, 1, 'CONDITIONING']],
    };
    expect(recoverPrompt({ workflow: JSON.stringify(workflow) })).toEqual({
      source: 'comfyui',
      prompt: 'from the workflow',
      negativePrompt: null,
      problem: null,
    });
  });
});

describe('recoverPrompt on hostile metadata', () => {
  it('InvokeAI 1.x: the sd-metadata `images` array, and the Dream line when it is all there is', () => {
    const sdMetadata = JSON.stringify({
      model: 'stable diffusion',
      app_id: 'lstein/stable-diffusion',
      app_version: 'v1.15',
      images: [{ prompt: [{ prompt: 'a tin robot [rust]', weight: 1 }], steps: 50, seed: 42 }],
    });
    expect(recoverPrompt({ 'sd-metadata': sdMetadata })).toEqual({ source: 'invokeai', prompt: 'a tin robot', negativePrompt: 'rust', problem: null });
    expect(recoverPrompt({ Dream: '"a tin robot [rust]" -s 50 -W 512 -H 512 -C 7.5 -A k_lms -S 42' })).toEqual({
      source: 'invokeai',
      prompt: 'a tin robot',
      negativePrompt: 'rust',
      problem: null,
    });
  });

  it('a graph over the walk budget: source comfyui, prompt null, and why', () => {
    const r = recoverPrompt({ prompt: JSON.stringify(diamondConcatGraph(40)) });
    expect(r).toEqual({ source: 'comfyui', prompt: null, negativePrompt: null, problem: expect.stringMatching(/longer than \d+ characters/) });
  });

  it('a diamond graph without text growth and 40 k-character parameters are read, not refused', () => {
    expect(recoverPrompt({ prompt: JSON.stringify(diamondSwitchGraph(60)) })).toMatchObject({ source: 'comfyui', prompt: null, problem: null });
    expect(recoverPrompt({ parameters: longParameters(40_000) })).toMatchObject({ prompt: 'a lighthouse at dusk', negativePrompt: 'blurry', problem: null });
  });

  it('parameters past MAX_PARAMETERS_CHARS: prompt null with the reason', () => {
    const r = recoverPrompt({ parameters: longParameters(300_000) });
    expect(r).toEqual({ source: 'a1111', prompt: null, negativePrompt: null, problem: expect.stringMatching(/more than the 262144 read/) });
  });

  it('JSON nested half a million levels deep in every JSON key is refused unparsed, with the reason', () => {
    const deep = deepJson(500_000);
    expect(recoverPrompt({ prompt: deep, workflow: `{"nodes":${deep}}`, 'sd-metadata': deep, invokeai_metadata: deep })).toEqual({
      source: null,
      prompt: null,
      negativePrompt: null,
      problem: 'the ComfyUI prompt JSON nests deeper than 64 levels',
    });
  });
});
