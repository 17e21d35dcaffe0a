// The object-request parser: against GenEval's own prompt metadata (553 prompts), and on the kinds of
// prompts people write in generation UIs.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseObjectPrompt, type ObjectPrompt } from '../../src/prompts/object-checks.js';

const GENEVAL = fileURLToPath(new URL('../fixtures/prompts/geneval/', import.meta.url));

interface GenEvalClause {
  class: string;
  count: number;
  color?: string;
  position?: [string, number];
}
interface GenEvalRow {
  tag: string;
  prompt: string;
  include: GenEvalClause[];
  exclude?: { class: string; count: number }[];
}

/** GenEval's metadata and a parse in one comparable form: sorted object and relation strings. */
function genevalForm(row: GenEvalRow): string {
  // GenEval asks for an exact count with include n + exclude n+1.
  const objects = row.include.map((c) => `${c.class}×${c.count}${row.exclude?.some((e) => e.class === c.class && e.count === c.count + 1) ? ' exactly' : ''}${c.color ? ` ${c.color}` : ''}`);
  const relations = row.include.filter((c) => c.position).map((c) => `${c.class} ${c.position![0]} ${row.include[c.position![1]]!.class}`);
  return [...objects.sort(), ...relations.sort()].join('; ');
}

function parsedForm(parsed: ObjectPrompt): string {
  const objects = parsed.requests.map((r) => `${r.cocoClass}×${r.count}${r.exact ? ' exactly' : ''}${r.colour ? ` ${r.colour}` : ''}`);
  const relations = parsed.requests.filter((r) => r.position).map((r) => `${r.cocoClass} ${r.position!.relation} ${parsed.requests[r.position!.target]!.cocoClass}`);
  return [...objects.sort(), ...relations.sort()].join('; ');
}

describe('parseObjectPrompt against GenEval metadata', () => {
  const rows = readFileSync(`${GENEVAL}evaluation_metadata.jsonl`, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as GenEvalRow);
  const listed = JSON.parse(readFileSync(`${GENEVAL}parse-disagreements.json`, 'utf8')) as { prompt: string; reason: string }[];
  const disagreements = rows.filter((row) => genevalForm(row) !== parsedForm(parseObjectPrompt(row.prompt)));

  it('reads all 553 prompts', () => {
    expect(rows).toHaveLength(553);
    expect(new Set(rows.map((r) => r.tag))).toEqual(new Set(['single_object', 'two_object', 'counting', 'colors', 'position', 'color_attr']));
  });

  it('agrees with the metadata on at least 95 % of prompts', () => {
    expect(1 - disagreements.length / rows.length).toBeGreaterThanOrEqual(0.95);
  });

  it('lists every disagreement, with its reason, in parse-disagreements.json', () => {
    const detail = disagreements.map((r) => ({ prompt: r.prompt, geneval: genevalForm(r), parsed: parsedForm(parseObjectPrompt(r.prompt)) }));
    expect(detail.map((d) => d.prompt)).toEqual(listed.map((l) => l.prompt));
    for (const l of listed) expect(l.reason.length).toBeGreaterThan(10);
  });

  it('compares what it claims to compare: a wrong parse is a disagreement', () => {
    const row = rows.find((r) => r.prompt === 'a photo of a bird below a skateboard')!;
    expect(parsedForm(parseObjectPrompt(row.prompt))).toBe(genevalForm(row));
    expect(parsedForm(parseObjectPrompt('a photo of a bird above a skateboard'))).not.toBe(genevalForm(row));
    const counting = rows.find((r) => r.prompt === 'a photo of three buses')!;
    expect(genevalForm(counting)).toBe('bus×3 exactly');
  });
});

describe('parseObjectPrompt', () => {
  const one = (prompt: string) => parseObjectPrompt(prompt).requests;

  it('maps synonyms and plurals to COCO classes', () => {
    expect(one('a kitten')[0]).toMatchObject({ cocoClass: 'cat', count: 1, exact: false });
    expect(one('an automobile')[0]).toMatchObject({ cocoClass: 'car' });
    expect(one('puppies playing')[0]).toMatchObject({ cocoClass: 'dog', count: 2, exact: false });
    expect(one('three knives')[0]).toMatchObject({ cocoClass: 'knife', count: 3, exact: true });
    expect(one('two women')[0]).toMatchObject({ cocoClass: 'person', count: 2, exact: true });
    expect(one('a teddy bear')[0]).toMatchObject({ cocoClass: 'teddy bear' });
    expect(one('a polar bear')[0]).toMatchObject({ cocoClass: 'bear' });
  });

  it('reads numerals, number words and group words', () => {
    expect(one('5 apples')[0]).toMatchObject({ cocoClass: 'apple', count: 5, exact: true });
    expect(one('a couple of cats')[0]).toMatchObject({ cocoClass: 'cat', count: 2, exact: false });
    expect(one('a pair of shoes and two cats')[0]).toMatchObject({ cocoClass: 'cat', count: 2, exact: true });
    expect(one('a crowd of people')[0]).toMatchObject({ cocoClass: 'person', count: 3, exact: false });
    expect(one('a crowd')[0]).toMatchObject({ cocoClass: 'person', count: 3, exact: false });
    expect(one('several birds')[0]).toMatchObject({ cocoClass: 'bird', count: 3, exact: false });
    expect(one('a street without cars')[0]).toMatchObject({ cocoClass: 'car', count: 0, exact: true });
  });

  it('attaches colour words to their noun, and tells the colour orange from the fruit', () => {
    expect(one('a red car and a blue bus').map((r) => [r.cocoClass, r.colour])).toEqual([
      ['car', 'red'],
      ['bus', 'blue'],
    ]);
    expect(one('an orange orange')[0]).toMatchObject({ cocoClass: 'orange', colour: 'orange' });
    expect(one('an orange cat')[0]).toMatchObject({ cocoClass: 'cat', colour: 'orange' });
    expect(one('a gray cat')[0]).toMatchObject({ colour: 'grey' });
  });

  it('reads spatial relations, with the later mention as the target', () => {
    const r = one('two dogs left of a red car');
    expect(r[0]).toMatchObject({ cocoClass: 'dog', count: 2, exact: true, position: { relation: 'left of', target: 1 } });
    expect(r[1]).toMatchObject({ cocoClass: 'car', colour: 'red', position: null });
    expect(one('a cat on top of a car')[0]!.position).toEqual({ relation: 'above', target: 1 });
    expect(one('a dog to the right of a bench')[0]!.position).toEqual({ relation: 'right of', target: 1 });
    expect(one('a ball under a chair')[0]!.position).toEqual({ relation: 'below', target: 1 });
    expect(one('a horse next to a car')[0]!.position).toEqual({ relation: 'next to', target: 1 });
    // "the dog" is the dog already asked for, so the relation lands on it.
    const back = one('a cat and a dog, the cat is left of the dog');
    expect(back).toHaveLength(2);
    expect(back[0]!.position).toEqual({ relation: 'left of', target: 1 });
  });

  it('reads UI syntax through plainPromptText', () => {
    const r = parseObjectPrompt('masterpiece, best quality, (a red automobile:1.2) next to a castle, <lora:x:0.8> highly detailed');
    expect(r.requests).toEqual([{ cocoClass: 'car', count: 1, exact: false, colour: 'red', position: null, text: 'a red automobile' }]);
    expect(r.notCheckable).toEqual(['castle']);
  });

  it('reports nouns outside the 80 classes as not checkable and never guesses them', () => {
    const r = parseObjectPrompt('a dragon flying over a castle, photorealistic');
    expect(r.requests).toEqual([]);
    expect(r.notCheckable).toEqual(['dragon', 'castle']);
    expect(parseObjectPrompt('').requests).toEqual([]);
  });

  it('stays bounded on a huge prompt', () => {
    const r = parseObjectPrompt('a dog, '.repeat(50_000));
    expect(r.requests.length).toBeLessThanOrEqual(16);
  });
});
