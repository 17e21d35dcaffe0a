// Object checks on hand-placed boxes: presence, counts, colours, GenEval's position rule, the level
// the fraction of passed checks gives, and findings that name each failure.
import { describe, expect, it } from 'vitest';
import { parseObjectPrompt } from '../../../src/prompts/object-checks.js';
import { countOf, objectChecksRound, relativePosition, type LabelledBox } from '../../../src/scoring/rounds/object-checks-round.js';
import type { BoxColour, ColourName } from '../../../src/signals/index.js';

const box = (label: string, x1: number, y1: number, x2: number, y2: number, score = 0.8): LabelledBox => ({ label, score, x1, y1, x2, y2 });
/** Colour by a table keyed on the box's left edge: the tests paint boxes without pixels. */
const paint =
  (colours: Record<number, ColourName>) =>
  (b: LabelledBox): BoxColour => ({ colour: colours[b.x1] ?? 'grey', shares: {} as BoxColour['shares'] });

const run = (prompt: string, boxes: LabelledBox[], colours: Record<number, ColourName> = {}) => objectChecksRound(parseObjectPrompt(prompt), boxes, paint(colours));
const texts = (o: ReturnType<typeof run>) => o.round!.findings.map((f) => f.text);

describe('relativePosition (GenEval rule on box centres)', () => {
  const a = box('dog', 0, 40, 20, 60);
  const b = box('car', 80, 40, 100, 60);
  it('finds left/right/above/below from centre offsets', () => {
    expect([...relativePosition(a, b, 0.1)]).toEqual(['left of']);
    expect([...relativePosition(b, a, 0.1)]).toEqual(['right of']);
    expect([...relativePosition(box('x', 40, 0, 60, 20), box('y', 40, 80, 60, 100), 0.1)]).toEqual(['above']);
    expect([...relativePosition(box('x', 40, 80, 60, 100), box('y', 40, 0, 60, 20), 0.1)]).toEqual(['below']);
  });
  it('gives both directions on a clear diagonal and none for overlapping centres', () => {
    expect(relativePosition(box('x', 0, 0, 10, 10), box('y', 90, 90, 100, 100), 0.1)).toEqual(new Set(['left of', 'above']));
    expect(relativePosition(box('x', 0, 0, 100, 100), box('y', 45, 45, 55, 55), 0.1).size).toBe(0);
    // Large boxes side by side but barely offset: the margin swallows the offset.
    expect(relativePosition(box('x', 0, 0, 100, 100), box('y', 10, 0, 110, 100), 0.1).size).toBe(0);
  });
});

describe('objectChecksRound', () => {
  it('passes every check of a matching picture: excellent', () => {
    const o = run('two dogs left of a red car', [box('dog', 0, 40, 20, 60), box('dog', 20, 40, 40, 60, 0.7), box('car', 70, 30, 100, 70)], { 70: 'red' });
    expect(o.checks.map((c) => [c.kind, c.passed])).toEqual([
      ['count', true],
      ['position', true],
      ['present', true],
      ['colour', true],
    ]);
    expect(o.round!.mos).toBe(4.5);
    expect(texts(o)[0]).toMatch(/^all 4 object checks pass/);
    expect(texts(run('a dog', [box('dog', 0, 40, 20, 60)]))).toEqual(['the object check passes (a dog)']);
  });

  it('names each failure: count, absence, colour, position', () => {
    expect(texts(run('three dogs', [box('dog', 0, 0, 10, 10)]))).toEqual(['asked for 3 dogs, found 1']);
    expect(texts(run('a bicycle', []))).toEqual(['no bicycle found']);
    expect(texts(run('a red car', [box('car', 5, 5, 50, 50)], { 5: 'blue' }))).toEqual(['asked for a red car, the car looks blue']);
    expect(texts(run('a cat left of a dog', [box('cat', 80, 40, 100, 60), box('dog', 0, 40, 20, 60)]))).toEqual(['the cat is right of the dog, asked left of']);
    expect(texts(run('a street without cars', [box('car', 0, 0, 10, 10)]))).toEqual([
      'asked for no cars, found 1',
      "not checkable (outside the detector's 80 classes): street",
    ]);
  });

  it('maps the fraction of passed checks onto the levels, and holds the exact count', () => {
    const half = run('a cat and a dog', [box('cat', 0, 0, 10, 10)]);
    expect(half.round!.mos).toBe(2.5);
    const tooMany = run('two cats', [box('cat', 0, 0, 10, 10), box('cat', 20, 0, 30, 10), box('cat', 40, 0, 50, 10)]);
    expect(tooMany.round!.mos).toBe(0.5);
    expect(texts(tooMany)).toEqual(['asked for 2 cats, found 3']);
    expect(run('several cats', [box('cat', 0, 0, 10, 10), box('cat', 20, 0, 30, 10), box('cat', 40, 0, 50, 10)]).round!.mos).toBe(4.5);
  });

  it('ignores boxes under the score threshold and counts people for person words', () => {
    expect(texts(run('a dog', [box('dog', 0, 0, 10, 10, 0.1)]))).toEqual(['no dog found']);
    expect(run('two women', [box('person', 0, 0, 10, 30), box('person', 20, 0, 30, 30)]).round!.mos).toBe(4.5);
    expect(texts(run('a crowd', [box('person', 0, 0, 10, 30)]))).toEqual(['asked for at least 3 people, found 1']);
  });

  it('names a missing object once, not again for its colour and place', () => {
    const o = run('a red car left of a dog', [box('dog', 0, 0, 10, 10)]);
    expect(o.checks.filter((c) => !c.passed).map((c) => c.kind)).toEqual(['present', 'colour', 'position']);
    expect(texts(o)).toEqual(['no car found']);
  });

  it('returns null with the reason when nothing is checkable', () => {
    expect(run('a dragon over a castle', [])).toMatchObject({ round: null, reason: expect.stringMatching(/'dragon', 'castle' are outside its 80 COCO classes/) });
    expect(run('', [])).toMatchObject({ round: null, reason: 'not judged: the prompt names no object to check' });
  });

  it('says which parts of the prompt it could not check', () => {
    expect(texts(run('a dog next to a castle', [box('dog', 0, 0, 10, 10)]))).toContain("not checkable (outside the detector's 80 classes): castle");
  });

  it('spells counts', () => {
    expect([countOf(1, 'dog'), countOf(2, 'person'), countOf(3, 'bus'), countOf(2, 'sheep'), countOf(2, 'wine glass'), countOf(4, 'knife')]).toEqual([
      '1 dog', '2 people', '3 buses', '2 sheep', '2 wine glasses', '4 knives',
    ]);
  });
});
