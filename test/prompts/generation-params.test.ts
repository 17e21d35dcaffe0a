// Sampling settings from embedded metadata (A1111 parameters, ComfyUI graphs) and the prompt key.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { generationParams, promptKey } from '../../src/prompts/index.js';

describe('generationParams', () => {
  it('reads seed, sampler, scheduler, steps and cfg from A1111 parameters', () => {
    const text = 'a cat\nNegative prompt: blurry\nSteps: 28, Sampler: DPM++ 2M, Schedule type: Karras, CFG scale: 6.5, Seed: 1234, Size: 512x512';
    expect(generationParams({ parameters: text })).toEqual({ seed: 1234, sampler: 'DPM++ 2M', scheduler: 'Karras', steps: 28, cfg: 6.5 });
  });

  it('reads the first sampler of a ComfyUI graph, ignoring linked inputs', () => {
    const graph = readFileSync(new URL('../fixtures/prompts/comfyui-sdxl.json', import.meta.url), 'utf8');
    const params = generationParams({ prompt: graph });
    expect(typeof params.seed === 'number' || params.seed === undefined).toBe(true);
    expect(params.steps).toBeGreaterThan(0);
    expect(typeof params.sampler).toBe('string');
    const linked = JSON.stringify({ '3': { class_type: 'KSampler', inputs: { seed: ['12', 0], steps: 20, cfg: 8, sampler_name: 'euler', scheduler: 'normal' } } });
    expect(generationParams({ prompt: linked })).toEqual({ steps: 20, cfg: 8, sampler: 'euler', scheduler: 'normal' });
  });

  it('gives {} for text it cannot read', () => {
    expect(generationParams({})).toEqual({});
    expect(generationParams({ prompt: '{not json' })).toEqual({});
    expect(generationParams({ prompt: '[1,2]' })).toEqual({});
    expect(generationParams({ parameters: 'just a prompt' })).toEqual({});
  });
});

describe('promptKey', () => {
  it('groups spellings of one prompt: weights, brackets, case, commas and spaces', () => {
    expect(promptKey('A (red:1.2) car,  photo')).toBe(promptKey('a red car, photo'));
    expect(promptKey('a red car <lora:x:0.8>')).toBe('a red car');
    expect(promptKey('a red car')).not.toBe(promptKey('a blue car'));
    expect(promptKey(null)).toBe('');
  });
});
