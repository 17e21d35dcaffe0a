import { describe, expect, it } from 'vitest';
import { recoverPrompt } from '../../src/prompts/index.js';

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
    });
  });

  it('recognises A1111 parameters', () => {
    expect(recoverPrompt({ parameters: 'a dog\nNegative prompt: cat\nSteps: 1, Seed: 2' })).toEqual({
      source: 'a1111',
      prompt: 'a dog',
      negativePrompt: 'cat',
    });
  });

  it('recognises InvokeAI metadata, new then legacy', () => {
    expect(recoverPrompt({ invokeai_metadata: '{"positive_prompt":"p","negative_prompt":""}' })).toEqual({
      source: 'invokeai',
      prompt: 'p',
      negativePrompt: null,
    });
    expect(recoverPrompt({ 'sd-metadata': '{"image":{"prompt":"old"}}' }).source).toBe('invokeai');
  });

  it('a ComfyUI workflow without the API graph names the source but no prompt', () => {
    expect(recoverPrompt({ workflow: '{"nodes":[]}' })).toEqual({ source: 'comfyui', prompt: null, negativePrompt: null });
  });

  it('unknown or non-graph text yields no source', () => {
    expect(recoverPrompt({ Software: 'GIMP', prompt: 'not json' })).toEqual({ source: null, prompt: null, negativePrompt: null });
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
    });
  });
});
