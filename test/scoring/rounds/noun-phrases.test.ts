import { describe, expect, it } from 'vitest';
import { CLIP_ROUNDS } from '../../../src/model/clip/default-rounds.js';
import { plainPromptText } from '../../../src/prompts/plain-text.js';
import { nounPhrases } from '../../../src/scoring/rounds/noun-phrases.js';

const options = { maxPhrases: 8, ignoreTerms: CLIP_ROUNDS.correspondence.ignoreTerms };
const texts = (prompt: string, o = options) => nounPhrases(prompt, o).map((p) => p.text);

describe('nounPhrases', () => {
  it('splits a sentence at prepositions and conjunctions and drops determiners', () => {
    expect(texts('a cat sitting under a red umbrella and a dog in the rain')).toEqual(['cat', 'red umbrella', 'dog', 'rain']);
  });

  it('splits a tag list at commas and drops quality boilerplate', () => {
    expect(texts('masterpiece, best quality, 8k, portrait of an old fisherman, highly detailed, golden hour')).toEqual([
      'portrait',
      'old fisherman',
      'golden hour',
    ]);
  });

  it('finds the scene in a UI prompt once plainPromptText has removed its syntax', () => {
    const plain = (prompt: string) => texts(plainPromptText(prompt));
    expect(plain('(red umbrella:1.3), [blue sky], <lora:filmgrain:0.8> castle')).toEqual(['red umbrella', 'blue sky', 'castle']);
    expect(plain('((masterpiece)), a [cat:fox:0.4] under a {red|blue} umbrella BREAK (rain:1.2)')).toEqual(['fox', 'red umbrella', 'rain']);
    expect(plain('embedding:EasyNegative, \\(tabby\\) cat AND a dog:0.8')).toEqual(['tabby', 'cat', 'dog']);
  });

  it('splits scripts without spaces at their punctuation and keeps emoji', () => {
    expect(texts('一只猫，红色的雨伞。🐱 🌂')).toEqual(['一只猫', '红色的雨伞', '🐱 🌂']);
    expect(texts('кошка под красным зонтом, дождь')).toEqual(['кошка под красным зонтом', 'дождь']);
  });

  it('keeps prompt order, drops duplicates case-insensitively and stops at maxPhrases', () => {
    expect(texts('Cat, cat, dog, bird, fish', { ...options, maxPhrases: 3 })).toEqual(['Cat', 'dog', 'bird']);
  });

  it('cuts runs of words too long to be one phrase, so a pasted 10,000-character prompt stays bounded', () => {
    const phrases = texts('word '.repeat(2000));
    expect(phrases).toEqual(['word word word word word word', 'word word']);
    const long = texts('abcdefghij'.repeat(1000));
    expect(long).toHaveLength(1);
    expect([...long[0]!]).toHaveLength(60);
  });

  it('returns nothing for an empty prompt or one made of boilerplate only', () => {
    expect(texts('')).toEqual([]);
    expect(texts('   ')).toEqual([]);
    expect(texts('masterpiece, best quality, 4k')).toEqual([]);
  });
});
