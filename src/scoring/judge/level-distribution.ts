// Round 2's answer → level probabilities. With log-probabilities: at the first generated token that is
// a level word, the probability mass of each level's token forms among the listed alternatives is
// summed (" Good", "good", "GOOD" all count for good) and renormalised over the five levels, as
// Q-Align reads its five words. Without them: the word alone, flagged. No level word: no score.
import type { TokenLogprob } from '../../model/judge/judge-client.js';
import { LEVELS, type Level, type LevelProbabilities } from '../score-result.js';

export type LevelForms = Record<Level, string[]>;

export type LevelReading =
  | {
      ok: true;
      probabilities: LevelProbabilities;
      /** 'logprobs': read from the distribution; 'word': the answer's word alone (no logprobs sent). */
      basis: 'logprobs' | 'word';
      /** Probability mass the five levels held before renormalising (1 for a word-only reading). */
      mass: number;
      word: Level;
    }
  | { ok: false; reason: string };

/** A token as the level lists hold it: leading spaces and BPE markers (Ġ, ▁) and markdown dropped, lower case. */
export function normaliseToken(token: string): string {
  return token.replace(/^[\s\u0120\u2581*"'`(\[]+/u, '').replace(/[\s.,!:;*"'`)\]]+$/u, '').toLowerCase();
}

function levelOfToken(token: string, forms: LevelForms): Level | null {
  const t = normaliseToken(token);
  if (t === '') return null;
  for (const level of LEVELS) if (forms[level].includes(t)) return level;
  return null;
}

function oneHot(level: Level): LevelProbabilities {
  return Object.fromEntries(LEVELS.map((l) => [l, l === level ? 1 : 0])) as LevelProbabilities;
}

/** The level words written in `text` (whole words, any case), in order of first appearance. */
function levelWordsIn(text: string): Level[] {
  const found: Level[] = [];
  for (const match of text.toLowerCase().matchAll(/[a-z]+/g)) {
    const word = match[0] as Level;
    if ((LEVELS as readonly string[]).includes(word) && !found.includes(word)) found.push(word);
  }
  return found;
}

function quoted(text: string): string {
  const t = text.trim().replace(/\s+/g, ' ');
  return `"${t.length > 60 ? `${t.slice(0, 60)}…` : t}"`;
}

export function readLevels(answer: { content: string; tokens: TokenLogprob[] | null }, forms: LevelForms): LevelReading {
  if (answer.tokens !== null) {
    const at = answer.tokens.find((t) => levelOfToken(t.token, forms) !== null);
    if (at === undefined) return { ok: false, reason: `not judged: the judge answered ${quoted(answer.content)}, not one of bad, poor, fair, good, excellent` };
    const mass = Object.fromEntries(LEVELS.map((l) => [l, 0])) as Record<Level, number>;
    // The chosen token may be missing from its own alternatives (a server listing fewer): count it once.
    const alternatives = at.top.some((a) => a.token === at.token) ? at.top : [{ token: at.token, logprob: at.logprob }, ...at.top];
    const seen = new Set<string>();
    for (const alt of alternatives) {
      if (seen.has(alt.token)) continue;
      seen.add(alt.token);
      const level = levelOfToken(alt.token, forms);
      if (level !== null) mass[level] += Math.exp(alt.logprob);
    }
    const total = LEVELS.reduce((s, l) => s + mass[l], 0);
    const probabilities = Object.fromEntries(LEVELS.map((l) => [l, mass[l] / total])) as LevelProbabilities;
    return { ok: true, probabilities, basis: 'logprobs', mass: Math.min(1, total), word: levelOfToken(at.token, forms)! };
  }
  const words = levelWordsIn(answer.content);
  if (words.length === 0) return { ok: false, reason: `not judged: the judge answered ${quoted(answer.content)}, not one of bad, poor, fair, good, excellent` };
  if (words.length > 1) return { ok: false, reason: `not judged: the judge answered ${quoted(answer.content)}, naming several levels (${words.join(', ')}) and no log-probabilities to weigh them` };
  return { ok: true, probabilities: oneHot(words[0]!), basis: 'word', mass: 1, word: words[0]! };
}

/** Round 1's description cut to its first sentence (markdown dropped, at most `maxChars`): the aspect's finding. */
export function firstSentence(description: string, maxChars: number): string {
  const plain = description
    .replace(/[*_`#>]+/g, '')
    .replace(/^\s*(?:quality|alignment|correspondence|authenticity|analysis)\s*:\s*/i, '')
    .replace(/\s+/g, ' ')
    .trim();
  const match = /^(.+?[.!?])(?:\s|$)/.exec(plain);
  const sentence = match?.[1] ?? plain;
  return sentence.length <= maxChars ? sentence : `${sentence.slice(0, maxChars - 1).trimEnd()}…`;
}
