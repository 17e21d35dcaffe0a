import { describe, expect, it } from 'vitest';
import { parseInvokeAIDream, parseInvokeAILegacyMetadata, parseInvokeAIMetadata } from '../../src/prompts/index.js';

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

// InvokeAI 1.x (lstein/stable-diffusion v1.15) wrote `sd-metadata` with an `images` array and a `Dream`
// chunk holding the command line; both were read as "no prompt".
describe('InvokeAI 1.x', () => {
  const v115 = (prompt: unknown) =>
    JSON.stringify({
      model: 'stable diffusion',
      model_id: 'stable-diffusion-1.4',
      model_hash: 'fe4efff1e174c627256e44ec2991ba279b3816e364b49f9be2abc0b3ff3f8556',
      app_id: 'lstein/stable-diffusion',
      app_version: 'v1.15',
      images: [{ prompt, steps: 50, cfg_scale: 7.5, height: 512, width: 512, seed: 42, sampler: 'k_lms', variations: [] }],
    });

  it('reads images[0].prompt as a list of {prompt, weight}, or a string', () => {
    expect(parseInvokeAILegacyMetadata(v115([{ prompt: 'a tin robot', weight: 1 }, { prompt: 'rusty', weight: 0.5 }]))).toEqual({
      prompt: 'a tin robot rusty',
      negativePrompt: null,
    });
    expect(parseInvokeAILegacyMetadata(v115('a tin robot [blurry]'))).toEqual({ prompt: 'a tin robot', negativePrompt: 'blurry' });
    expect(parseInvokeAILegacyMetadata(JSON.stringify({ images: [] }))).toBeNull();
  });

  it('reads the Dream line: the quoted prompt before the options', () => {
    expect(parseInvokeAIDream('"a tin robot, oil painting [blurry, text]" -s 50 -W 512 -H 512 -C 7.5 -A k_lms -S 42')).toEqual({
      prompt: 'a tin robot, oil painting',
      negativePrompt: 'blurry, text',
    });
    expect(parseInvokeAIDream('"a "quoted" word" -s 50 -S 1')).toEqual({ prompt: 'a "quoted" word', negativePrompt: null });
    expect(parseInvokeAIDream('a bare prompt -s 50 -W 512')).toEqual({ prompt: 'a bare prompt', negativePrompt: null });
    expect(parseInvokeAIDream('"" -s 50')).toBeNull();
  });

  it('splits bracketed negatives in linear time, even on 100 k unclosed brackets', () => {
    expect(parseInvokeAILegacyMetadata(JSON.stringify({ image: { prompt: 'a [[b] c] d' } }))).toEqual({ prompt: 'a [ c] d', negativePrompt: 'b' });
    const started = performance.now();
    const r = parseInvokeAIDream(`"${'['.repeat(100_000)}x" -s 1`);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(r?.prompt).toBe(`${'['.repeat(100_000)}x`);
  });
});
