import { describe, expect, it } from 'vitest';
import { parseA1111Parameters } from '../../src/prompts/index.js';

describe('parseA1111Parameters', () => {
  it('splits prompt, negative prompt and settings', () => {
    const r = parseA1111Parameters(
      'a cat in a hat\nNegative prompt: blurry, lowres\nSteps: 20, Sampler: Euler a, CFG scale: 7, Seed: 42, Size: 512x512',
    );
    expect(r.prompt).toBe('a cat in a hat');
    expect(r.negativePrompt).toBe('blurry, lowres');
    expect(r.settings).toMatchObject({ Steps: '20', Sampler: 'Euler a', 'CFG scale': '7', Seed: '42', Size: '512x512' });
  });

  it('keeps multi-line prompt and negative prompt, and unquotes quoted settings', () => {
    const r = parseA1111Parameters(
      'line one,\nline two: with colon\nNegative prompt: bad hands,\nbad feet\nSteps: 30, Lora hashes: "a: 1, b: 2", Model: sdxl',
    );
    expect(r.prompt).toBe('line one,\nline two: with colon');
    expect(r.negativePrompt).toBe('bad hands,\nbad feet');
    expect(r.settings['Lora hashes']).toBe('a: 1, b: 2');
    expect(r.settings.Model).toBe('sdxl');
  });

  it('has no negative prompt when the line is absent, and no settings when Steps is absent', () => {
    expect(parseA1111Parameters('just a prompt\nSteps: 20, Seed: 1')).toEqual({
      prompt: 'just a prompt',
      negativePrompt: null,
      settings: { Steps: '20', Seed: '1' },
    });
    expect(parseA1111Parameters('free text only')).toEqual({ prompt: 'free text only', negativePrompt: null, settings: {} });
  });

  it('handles CRLF line ends and an empty prompt', () => {
    const r = parseA1111Parameters('\r\nNegative prompt: ugly\r\nSteps: 5, Seed: 2');
    expect(r.prompt).toBe('');
    expect(r.negativePrompt).toBe('ugly');
  });
});
