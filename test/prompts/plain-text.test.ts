import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/evaluation/datasets.js';
import { plainPromptText } from '../../src/prompts/plain-text.js';

type Case = [input: string, plain: string];

function table(cases: readonly Case[]): void {
  it.each(cases)('%j → %j', (input, plain) => {
    expect(plainPromptText(input)).toBe(plain);
  });
}

describe('plainPromptText', () => {
  describe('leaves plain prompts as they are', () => {
    table([
      ['a photo of a cat', 'a photo of a cat'],
      ['masterpiece, best quality, portrait of an old fisherman', 'masterpiece, best quality, portrait of an old fisherman'],
      ['1,000 paper cranes', '1,000 paper cranes'],
      ['score_9, score_8_up, 1girl', 'score_9, score_8_up, 1girl'],
      ['style: anime, ratio 3:2 poster', 'style: anime, ratio 3:2 poster'],
      ['a cat\na dog', 'a cat\na dog'],
      ['一只猫，红色的雨伞。🐱', '一只猫，红色的雨伞。🐱'],
      ['café « le chat noir »', 'café « le chat noir »'],
      ['less < more > all', 'less < more > all'],
      ['', ''],
    ]);
  });

  describe('A1111 emphasis and ComfyUI weights keep their words', () => {
    table([
      ['(red umbrella:1.3), castle', 'red umbrella, castle'],
      ['a (red:1.2) car', 'a red car'],
      ['((masterpiece)), (((cat)))', 'masterpiece, cat'],
      ['[blurry], [[dark]]', 'blurry, dark'],
      ['(word: 1.2 ), (word2:.5), (word3:-1), (word4:1e-1)', 'word, word2, word3, word4'],
      ['(cat:1.2)(dog:0.8)', 'cat dog'],
      ['(red)dish', 'red dish'],
      ['(red)-haired girl', 'red-haired girl'],
      ['(style: anime)', 'style: anime'],
      ['(a:b:1.2)', 'a:b'],
      ['(1girl:1), solo', '1girl, solo'],
      ['((a cat, (sitting:1.1)):1.3) on a sofa', 'a cat, sitting on a sofa'],
    ]);
  });

  describe('prompt editing gives the `to` side, as the final image shows it', () => {
    table([
      ['a [cat:dog:0.5] on a sofa', 'a dog on a sofa'],
      ['[cat:dog:10]', 'dog'],
      ['[cat:dog: 0.25 ]', 'dog'],
      ['a [hat:0.3] man', 'a hat man'],
      ['a [hat::0.3] man', 'a man'],
      ['[(cat:1.2):dog:0.5]', 'dog'],
      ['[cat:(dog:1.3):0.5]', 'dog'],
      ['[cat:[dog:fox:0.7]:0.5]', 'fox'],
      ['[[a|b]:c:0.3]', 'c'],
      ['((a [b:c:0.5]))', 'a c'],
      ['[a:b]', 'a:b'],
      ['[a:b:c:0.5]', 'a:b:c:0.5'],
    ]);
  });

  describe('alternation and Dynamic Prompts variants give the first option', () => {
    table([
      ['a [cat|dog] in the rain', 'a cat in the rain'],
      ['[cat|dog|fox]', 'cat'],
      ['[|dog]', ''],
      ['[(cat:1.2)|dog]', 'cat'],
      ['[a [red|blue] hat|a cap]', 'a red hat'],
      ['a {red|blue} car', 'a red car'],
      ['{cat|{dog|fox}}', 'cat'],
      ['{{dog|fox}|cat}', 'dog'],
      ['{(red:1.2)|blue} car', 'red car'],
      ['{0.5::red|2::blue} car', 'red car'],
      ['{2$$red|green|blue} car', 'red, green car'],
      ['{2$$ and $$red|green|blue} car', 'red and green car'],
      ['{1-3$$red|green|blue}', 'red'],
      ['{-3$$red|green|blue}', 'red'],
      ['{}', ''],
      ['{cat}', 'cat'],
    ]);
  });

  describe('tags, embeddings, wildcards and keywords go', () => {
    table([
      ['<lora:filmgrain:0.8> castle', 'castle'],
      ['castle, <lora:filmgrain:0.8>, <hypernet:ink:1>, night', 'castle, night'],
      ['castle<lyco:x:0.5:0.2>night', 'castle night'],
      ['embedding:EasyNegative, ugly', 'ugly'],
      ['(embedding:bad_hands.pt:1.2), a cat', 'a cat'],
      ['photo of embedding:my-face wearing a hat', 'photo of wearing a hat'],
      ['a __colors__ car on __places/city__', 'a car on'],
      ['a cat BREAK a dog', 'a cat, a dog'],
      ['a cat, BREAK, a dog', 'a cat, a dog'],
      ['BREAK a dog BREAK', 'a dog'],
      ['a cat\nBREAK\na dog', 'a cat\na dog'],
      ['Break dancing, breakfast', 'Break dancing, breakfast'],
      ['a cat AND a dog', 'a cat and a dog'],
      ['forest, night :1.2 AND a wolf, howling:0.8', 'forest, night and a wolf, howling'],
      ['a cat AND a dog:-1', 'a cat'],
      ['a cat:0 AND a dog:0', 'a cat and a dog'],
      ['<lora:x:1> AND a dog', 'a dog'],
      ['ANDROID robot, HANDS', 'ANDROID robot, HANDS'],
    ]);
  });

  describe('escapes become the literal characters', () => {
    table([
      ['\\(artist\\), portrait', '(artist), portrait'],
      ['Link \\(zelda\\) (sword:1.2)', 'Link (zelda) sword'],
      ['\\[not edited:0.5\\]', '[not edited:0.5]'],
      ['\\{a\\|b\\}', '{a|b}'],
      ['(\\(nested\\):1.2)', '(nested)'],
      ['time 10\\:30', 'time 10:30'],
      ['back\\\\slash', 'back\\slash'],
      ['a \\lone backslash', 'a \\lone backslash'],
      ['\\<lora:x:1\\>', '<lora:x:1>'],
    ]);
  });

  describe('malformed input gives its words, never an error', () => {
    table([
      ['(unclosed emphasis', 'unclosed emphasis'],
      ['(unclosed:1.2', 'unclosed:1.2'],
      ['closed) too far]', 'closed too far'],
      ['[cat:dog:0.5', 'cat:dog:0.5'],
      ['{red|blue car', 'red|blue car'],
      ['[a (b] c)', 'a b c'],
      ['((a:1.2]', 'a:1.2'],
      ['a ) b ] c } d', 'a b c d'],
      ['((((((cat', 'cat'],
      ['))))))cat', 'cat'],
      ['trailing backslash \\', 'trailing backslash \\'],
      ['<lora:unterminated castle', '<lora:unterminated castle'],
      [':::|||', ':::|||'],
      ['[::]', '::'],
      ['(:)', ':'],
      ['[:0.5]', ''],
      ['a\uE000b', 'ab'],
    ]);

    it('never throws on any mix of brackets and separators, and leaves no placeholder, BREAK or edge space', () => {
      const alphabet = ['(', ')', '[', ']', '{', '}', ':', '|', '\\', '<', '>', '0.5', ' ', ',', 'BREAK', 'AND', 'cat'];
      const random = seededRandom(1);
      const pick = (n: number): number => Math.floor(random() * n);
      for (let i = 0; i < 2000; i++) {
        const input = Array.from({ length: 1 + pick(30) }, () => alphabet[pick(alphabet.length)]).join('');
        const plain = plainPromptText(input);
        expect(plain).not.toMatch(/\uE000|\bBREAK\b/);
        expect(plain).toBe(plain.trim());
      }
    });

    it('handles 20,000 nested brackets without exhausting the stack', () => {
      expect(plainPromptText(`${'('.repeat(20000)}cat:1.2${')'.repeat(20000)}`)).toBe('cat');
      expect(plainPromptText(`${'['.repeat(20000)}cat`)).toBe('cat');
      expect(plainPromptText(`${'{'.repeat(20000)}cat|dog${'}'.repeat(20000)}`)).toMatch(/^cat/);
    });

    it('reads a 10,000-character prompt in linear time', () => {
      const prompt = '(masterpiece:1.2), [cat:dog:0.5], {red|blue} <lora:x:0.8> '.repeat(200);
      const started = performance.now();
      const plain = plainPromptText(prompt);
      expect(performance.now() - started).toBeLessThan(500);
      expect(plain.startsWith('masterpiece, dog, red masterpiece, dog, red')).toBe(true);
    });
  });

  // Each of these took seconds with the patterns they used to meet (\s*…$, \d*\.?\d+, a lazy name that
  // rescanned to the end from every `__`): quadratic in the run. A generous bound proves it is not.
  it.each([
    ['spaces before an AND weight', `a AND b${' '.repeat(100_000)}x`, 'a and b x'],
    ['spaces without BREAK', `a${' '.repeat(100_000)}x`, 'a x'],
    ['spaces before a variant bound', `{${' '.repeat(100_000)}x|y}`, 'x'],
    ['digits before a variant weight', `{${'1'.repeat(100_000)}x|y}`, `${'1'.repeat(100_000)}x`],
    ['spaces in an emphasis weight', `(a:${' '.repeat(100_000)}x)`, 'a: x'],
    ['wildcard-like names that never close', '__a-'.repeat(25_000), null],
  ])('reads %s (100 k characters) in linear time', (_name, prompt, expected) => {
    const started = performance.now();
    const plain = plainPromptText(prompt);
    expect(performance.now() - started).toBeLessThan(2_000);
    if (expected !== null) expect(plain).toBe(expected);
  });

  it('keeps what the rewritten patterns meant: weights, bounds and wildcards', () => {
    expect(plainPromptText('a cat :1.5 AND a dog: -0.5')).toBe('a cat');
    expect(plainPromptText('{ 2 $$ red|green|blue} car')).toBe('red, green car');
    expect(plainPromptText('{0.5 :: red| 2::green}')).toBe('red');
    expect(plainPromptText('{1.2.3::red|green}')).toBe('1.2.3::red');
    expect(plainPromptText('a __b_c__ d, x__y__ z')).toBe('a d, x__y__ z');
  });

  it('is idempotent on its own output', () => {
    for (const prompt of ['((a [b:c:0.5])), <lora:x:1> d BREAK e', '{2$$red|green} car AND a dog', ' x , , y ,\n\n z ']) {
      const once = plainPromptText(prompt);
      expect(plainPromptText(once)).toBe(once);
    }
  });
});
