import { describe, expect, it } from 'vitest';
import { parseInvokeAILegacyMetadata, parseInvokeAIMetadata } from '../../src/prompts/index.js';

describe('parseInvokeAIMetadata (invokeai_metadata)', () => {
  it('reads positive_prompt and negative_prompt', () => {
    const json = JSON.stringify({ generation_mode: 'txt2img', positive_prompt: 'a lighthouse at night', negative_prompt: 'blurry', seed: 1 });
    expect(parseInvokeAIMetadata(json)).toEqual({ prompt: 'a lighthouse at night', negativePrompt: 'blurry' });
  });

  it('returns null for non-JSON or a JSON without prompts', () => {
    expect(parseInvokeAIMetadata('not json')).toBeNull();
    expect(parseInvokeAIMetadata('{"seed":1}')).toBeNull();
    expect(parseInvokeAIMetadata('[1,2]')).toBeNull();
  });
});

describe('parseInvokeAILegacyMetadata (sd-metadata)', () => {
  it('reads image.prompt as a string, with the [bracketed] negative split off', () => {
    const json = JSON.stringify({ model: 'stable diffusion', image: { prompt: 'a red barn [fog, people]', seed: 3 } });
    expect(parseInvokeAILegacyMetadata(json)).toEqual({ prompt: 'a red barn', negativePrompt: 'fog, people' });
  });

  it('reads image.prompt as an array of {prompt, weight}', () => {
    const json = JSON.stringify({ image: { prompt: [{ prompt: 'an old map', weight: 1 }, { prompt: 'sepia', weight: 0.5 }] } });
    expect(parseInvokeAILegacyMetadata(json)).toEqual({ prompt: 'an old map sepia', negativePrompt: null });
  });

  it('returns null when image.prompt is missing', () => {
    expect(parseInvokeAILegacyMetadata('{"image":{}}')).toBeNull();
    expect(parseInvokeAILegacyMetadata('{')).toBeNull();
  });
});
