// Reads the object requests a detector can check out of a prompt, with no model: which COCO objects,
// how many, which colour, and where one sits relative to another ("two dogs left of a red car").
// Rules over a tokenized prompt, tested against GenEval's own prompt metadata. A noun outside the
// 80 classes is listed as not checkable, never mapped to a near class.
import { COLOUR_WORDS, GROUP_NOUNS, MAX_NOUN_WORDS, NOUN_LEXICON, type BasicColour, type CocoClass } from './coco-vocabulary.js';
import { plainPromptText } from './plain-text.js';

export type Relation = 'left of' | 'right of' | 'above' | 'below' | 'next to';

export interface ObjectRequest {
  cocoClass: CocoClass;
  /** At least this many must be present (0 with `exact`: the prompt asks for none). */
  count: number;
  /** The prompt names the number ("three dogs", "no cars"): more than `count` is wrong too. */
  exact: boolean;
  colour: BasicColour | null;
  /** This object's place relative to another request (an index into `requests`). */
  position: { relation: Relation; target: number } | null;
  /** The words as written ("two dogs"), for findings. */
  text: string;
}

export interface ObjectPrompt {
  requests: ObjectRequest[];
  /** Phrases naming something the detector does not know ("castle"), in prompt order. */
  notCheckable: string[];
}

// Prompts past this length are tag soups; their first part holds the subject.
const MAX_PROMPT_CHARS = 2000;
const MAX_REQUESTS = 16;

const NUMBER_WORDS: Record<string, number> = {
  zero: 0, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9, ten: 10,
  eleven: 11, twelve: 12, single: 1, lone: 1, solitary: 1, pair: 2, twin: 2, twins: 2, dozen: 12,
};
// Quantifiers that ask for at least this many, without fixing the number.
const AT_LEAST_WORDS: Record<string, number> = { a: 1, an: 1, another: 1, the: 1, this: 1, that: 1, some: 2, few: 2, several: 3, many: 3, multiple: 2, various: 2, numerous: 3, lots: 3, group: 3, bunch: 3 };
const NONE_WORDS = new Set(['no', 'without']);
// Words that end one object's phrase: conjunctions, prepositions, verbs that join clauses.
const BREAK_WORDS = new Set(
  ('and or but with without of on in at under over near behind beside next to from by into onto above below beneath underneath while ' +
    'holding wearing sitting standing lying walking running flying looking is are was were be being has have had that which who ' +
    'where when for against through across between among around as like than inside outside along left right top front')
    .split(' '),
);
// Words of a phrase that describe the picture, not an object in it: a phrase made only of them is no object.
const NOT_OBJECT_WORDS = new Set(
  ('photo photograph picture image illustration painting drawing sketch render rendering art artwork style quality masterpiece ' +
    'detail details detailed background scene view shot closeup close up portrait lighting light 4k 8k hd uhd resolution wallpaper ' +
    'cinematic realistic photorealistic hyperrealistic trending artstation octane unreal engine bokeh focus sharp composition ' +
    'side middle center centre corner day night sunset sunrise morning evening best high highly ultra very beautiful ' +
    'lot lots group bunch couple pair few several many some it them there here each other together one ones same kind sort type')
    .split(' '),
);
const DETERMINERS = new Set(['a', 'an', 'the', 'this', 'that', 'these', 'those', 'some', 'another', 'any', 'its', 'their', 'his', 'her', 'my', 'our', 'your']);

type Token = { word: string } | { punct: string };

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  for (const m of text.toLowerCase().matchAll(/[a-z0-9]+|[.,;:!?|()[\]{}"]/g)) {
    tokens.push(/^[a-z0-9]/.test(m[0]) ? { word: m[0] } : { punct: m[0] });
  }
  return tokens;
}

const wordAt = (tokens: Token[], i: number): string | undefined => {
  const t = tokens[i];
  return t !== undefined && 'word' in t ? t.word : undefined;
};

interface Mention {
  start: number;
  end: number; // exclusive
  cocoClass: CocoClass;
  plural: boolean;
  ambiguousNumber: boolean;
  atLeast?: number;
}

/** The longest class name starting at token `i`, if any. */
function nounAt(tokens: Token[], i: number): Mention | undefined {
  for (let n = Math.min(MAX_NOUN_WORDS, tokens.length - i); n >= 1; n--) {
    const words: string[] = [];
    for (let k = 0; k < n; k++) {
      const w = wordAt(tokens, i + k);
      if (w === undefined) break;
      words.push(w);
    }
    if (words.length !== n) continue;
    const entry = NOUN_LEXICON.get(words.join(' '));
    if (entry !== undefined) return { start: i, end: i + n, ...entry };
  }
  const group = GROUP_NOUNS[wordAt(tokens, i) ?? ''];
  if (group !== undefined) return { start: i, end: i + 1, cocoClass: group.cocoClass, plural: true, ambiguousNumber: false, atLeast: group.atLeast };
  return undefined;
}

/** "orange" before a noun (possibly after more colour words) is a colour, not the fruit. */
function colourBeforeNoun(tokens: Token[], i: number): boolean {
  for (let k = i + 1; k < tokens.length; k++) {
    const w = wordAt(tokens, k);
    if (w === undefined) return false;
    if (nounAt(tokens, k) !== undefined) return true;
    if (!(w in COLOUR_WORDS) && w !== 'and' && !/^(light|dark|bright|pale|deep)$/.test(w)) return false;
  }
  return false;
}

function findMentions(tokens: Token[]): Mention[] {
  const mentions: Mention[] = [];
  for (let i = 0; i < tokens.length && mentions.length < MAX_REQUESTS * 2; ) {
    const m = nounAt(tokens, i);
    if (m === undefined || (wordAt(tokens, i) === 'orange' && m.end === i + 1 && colourBeforeNoun(tokens, i))) {
      i++;
      continue;
    }
    // "a crowd of people", "a flock of birds": the group noun gives the number, the noun the class.
    const prev = mentions.at(-1);
    if (prev?.atLeast !== undefined && prev.end + 1 === m.start && wordAt(tokens, prev.end) === 'of') {
      mentions[mentions.length - 1] = { ...m, start: prev.start, atLeast: prev.atLeast };
    } else {
      mentions.push(m);
    }
    i = m.end;
  }
  return mentions;
}

interface Modifiers {
  count: number;
  exact: boolean;
  colour: BasicColour | null;
  /** Refers back to an earlier request of the same class ("the cat", or a bare "cat"). */
  definite: boolean;
  firstWord: number;
}

/** Number and colour words in the phrase before a noun, back to the previous break. */
function modifiersOf(tokens: Token[], m: Mention, floor: number): Modifiers {
  let count: number | undefined;
  let exact = false;
  let colour: BasicColour | null = null;
  let definite = false;
  let determined = false;
  let first = m.start;
  for (let k = m.start - 1; k >= floor; k--) {
    const w = wordAt(tokens, k);
    if (w === undefined) break;
    // A verb ("riding a horse") ends the phrase too; an "-ing" word before a noun is rarely its colour or number.
    if (w.endsWith('ing') && w.length > 4 && !BREAK_WORDS.has(w)) break;
    if (BREAK_WORDS.has(w)) {
      // "a couple of", "a pair of", "a group of", "lots of": the quantity sits before "of".
      const q = w === 'of' ? wordAt(tokens, k - 1) : undefined;
      if (q === 'couple' || q === 'pair') [count, exact, first] = [2, true, k - 1];
      else if (q !== undefined && q in AT_LEAST_WORDS && count === undefined) [count, first] = [AT_LEAST_WORDS[q]!, k - 1];
      if (w === 'without' || (w === 'of' && q === 'no')) [count, exact] = [0, true];
      break;
    }
    first = k;
    if (w in COLOUR_WORDS && colour === null) colour = COLOUR_WORDS[w]!;
    else if (NONE_WORDS.has(w)) [count, exact, determined] = [0, true, true];
    else if (/^\d+$/.test(w) && count === undefined) [count, exact, determined] = [Math.min(Number(w), 99), true, true];
    else if (w in NUMBER_WORDS && count === undefined) [count, exact, determined] = [NUMBER_WORDS[w]!, true, true];
    else if (w in AT_LEAST_WORDS && count === undefined) {
      count = AT_LEAST_WORDS[w]!;
      determined = true;
      definite = w === 'the' || w === 'this' || w === 'that';
    }
  }
  if (m.atLeast !== undefined && (count === undefined || !exact)) [count, exact] = [m.atLeast, false];
  // A plural without a number asks for more than one; "the sheep" stays one.
  if (count === undefined || (!exact && m.plural && count < 2)) count = m.plural ? 2 : 1;
  if (m.plural && count === 1 && !exact && !m.ambiguousNumber) count = 2;
  // A bare singular noun ("cat" in a tag list) names a thing; after the same class it is that thing again.
  return { count, exact, colour, definite: definite || (!determined && !m.plural), firstWord: first };
}

const RELATIONS: [RegExp, Relation][] = [
  [/\bon top of\b/, 'above'],
  [/\b(?:to the |on the |at the )?left(?: side)? of\b/, 'left of'],
  [/\b(?:to the |on the |at the )?right(?: side)? of\b/, 'right of'],
  [/\b(?:above|over|atop)\b/, 'above'],
  [/\b(?:below|under|beneath|underneath)\b/, 'below'],
  [/\b(?:next to|beside|besides|alongside|by the side of)\b/, 'next to'],
];

function relationIn(words: string): Relation | null {
  for (const [pattern, relation] of RELATIONS) if (pattern.test(words)) return relation;
  return null;
}

function phraseText(tokens: Token[], from: number, to: number): string {
  const words: string[] = [];
  for (let k = from; k < to; k++) {
    const w = wordAt(tokens, k);
    if (w !== undefined) words.push(w);
  }
  return words.join(' ');
}

/** Phrases between breaks that hold no class name and are not about the picture itself. */
function uncheckedPhrases(tokens: Token[], covered: boolean[]): string[] {
  const out: string[] = [];
  let phrase: string[] = [];
  const flush = () => {
    const content = phrase.filter((w) => !DETERMINERS.has(w) && !(w in NUMBER_WORDS) && !(w in COLOUR_WORDS) && !/^\d+$/.test(w));
    const last = content.at(-1);
    // A phrase ending in an adjective-like word ("highly detailed") names no object.
    if (last !== undefined && content.some((w) => !NOT_OBJECT_WORDS.has(w)) && !NOT_OBJECT_WORDS.has(last) && !/(ed|ly|ful|ous|ive|ic|ing)$/.test(last)) {
      const text = content.join(' ');
      if (!out.includes(text)) out.push(text);
    }
    phrase = [];
  };
  tokens.forEach((t, k) => {
    if (!('word' in t) || BREAK_WORDS.has(t.word) || NONE_WORDS.has(t.word) || covered[k]) flush();
    else phrase.push(t.word);
  });
  flush();
  return out.slice(0, MAX_REQUESTS);
}

/**
 * The object requests of `prompt` (any UI syntax: it goes through `plainPromptText` first).
 * Never throws; a prompt with no class name gives no requests.
 */
export function parseObjectPrompt(prompt: string): ObjectPrompt {
  const tokens = tokenize(plainPromptText(prompt.slice(0, MAX_PROMPT_CHARS)));
  const mentions = findMentions(tokens);
  const covered = new Array<boolean>(tokens.length).fill(false);
  const requests: ObjectRequest[] = [];
  const requestOf: number[] = []; // mention index → request index
  const relations: { subject: number; target: number; relation: Relation }[] = [];
  let floor = 0;
  mentions.forEach((m, i) => {
    const mod = modifiersOf(tokens, m, floor);
    for (let k = mod.firstWord; k < m.end; k++) covered[k] = true;
    // "the cat" after "a cat" is the same cat, not a second one.
    const earlier = mod.definite ? requests.findIndex((r) => r.cocoClass === m.cocoClass) : -1;
    if (earlier >= 0) {
      requestOf.push(earlier);
      if (mod.colour !== null && requests[earlier]!.colour === null) requests[earlier]!.colour = mod.colour;
    } else if (requests.length < MAX_REQUESTS) {
      requestOf.push(requests.length);
      requests.push({ cocoClass: m.cocoClass, count: mod.count, exact: mod.exact, colour: mod.colour, position: null, text: phraseText(tokens, mod.firstWord, m.end) });
    } else {
      requestOf.push(-1);
    }
    // The relation sits between this mention and the next one's own words.
    const next = mentions[i + 1];
    if (next !== undefined) {
      const nextMod = modifiersOf(tokens, next, m.end);
      const between = tokens.slice(m.end, nextMod.firstWord);
      const sentenceBreak = between.some((t) => 'punct' in t && t.punct !== ',');
      const relation = sentenceBreak ? null : relationIn(phraseText(tokens, m.end, nextMod.firstWord));
      if (relation !== null) relations.push({ subject: i, target: i + 1, relation });
    }
    floor = m.end;
  });
  for (const { subject, target, relation } of relations) {
    const s = requestOf[subject]!;
    const t = requestOf[target]!;
    if (s >= 0 && t >= 0 && s !== t && requests[s]!.position === null) requests[s]!.position = { relation, target: t };
  }
  return { requests, notCheckable: uncheckedPhrases(tokens, covered) };
}

