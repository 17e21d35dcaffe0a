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
      problem: null,
    });
    expect(parseA1111Parameters('free text only')).toEqual({ prompt: 'free text only', negativePrompt: null, settings: {}, problem: null });
  });

  it('handles CRLF line ends and an empty prompt', () => {
    const r = parseA1111Parameters('\r\nNegative prompt: ugly\r\nSteps: 5, Seed: 2');
    expect(r.prompt).toBe('');
    expect(r.negativePrompt).toBe('ugly');
  });

  it('reads settings the way A1111 writes them: quoted values with commas and escapes, segments without a colon skipped', () => {
    const r = parseA1111Parameters(
      'p\nSteps: 20, junk without colon, Template: "a \\"b\\", c", Size: 512x512,Hires upscale: 2, Odd: "x" y, Empty:, Unclosed: "abc',
    );
    expect(r.settings).toEqual({
      Steps: '20',
      Template: 'a "b", c',
      Size: '512x512',
      'Hires upscale': '2',
      Odd: '"x" y',
      Empty: '',
      Unclosed: '"abc',
    });
  });

  // The old settings pattern backtracked on every start position of a long colon-free run: 40 k
  // characters took seconds, growing with the square of the length. Each of these runs is read in one pass.
  it.each([
    ['a colon-free run', 'Steps: 20, ' + 'x'.repeat(200_000)],
    ['many colons without values', 'Steps: 20, ' + 'a:'.repeat(100_000)],
    ['an unclosed quote', 'Steps: 20, K: "' + '\\"'.repeat(60_000)],
    ['a long negative prompt line', 'Negative prompt: ' + 'y '.repeat(100_000) + '\nSteps: 1'],
  ])('parses %s of 200 k characters in linear time', (_name, line) => {
    const started = performance.now();
    const r = parseA1111Parameters(`a cat\n${line}`);
    // A bound, not a timing: the old pattern needed minutes for this length.
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(r.problem).toBeNull();
    expect(r.prompt).toBe('a cat');
  });

  it('does not read a text longer than its budget: empty prompt and a problem', () => {
    const r = parseA1111Parameters('a cat\nSteps: 20, Seed: 1', 10);
    expect(r).toEqual({ prompt: '', negativePrompt: null, settings: {}, problem: expect.stringMatching(/24 characters, more than the 10 read/) });
  });
});
