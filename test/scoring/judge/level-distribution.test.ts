// Round 2's answer → level probabilities: token forms summed, renormalised; the word alone without
// logprobs; nothing made up when the answer names no level (or several, with nothing to weigh them).
import { describe, expect, it } from 'vitest';
import { DEFAULT_JUDGE_SETTINGS } from '../../../src/model/judge/judge-pack.js';
import { firstSentence, normaliseToken, readLevels } from '../../../src/scoring/judge/level-distribution.js';
import { expectedMosOf } from '../../../src/scoring/judge/judge-rounds.js';

const forms = DEFAULT_JUDGE_SETTINGS.levelForms;
const token = (t: string, top: [string, number][]) => ({ token: t, logprob: Math.log(top.find(([x]) => x === t)?.[1] ?? 0.5), top: top.map(([x, p]) => ({ token: x, logprob: Math.log(p) })) });

describe('readLevels', () => {
  it('sums case and space variants of each level and renormalises over the five', () => {
    const reading = readLevels({ content: 'Good', tokens: [token('Good', [['Good', 0.4], [' good', 0.1], ['GOOD', 0.1], ['Ġgood', 0.05], ['Fair', 0.15], ['▁Excellent', 0.1], ['Okay', 0.1]])] }, forms);
    expect(reading).toMatchObject({ ok: true, basis: 'logprobs', word: 'good' });
    if (!reading.ok) return;
    expect(reading.mass).toBeCloseTo(0.9, 12);
    expect(reading.probabilities.good).toBeCloseTo(0.65 / 0.9, 12);
    expect(reading.probabilities.fair).toBeCloseTo(0.15 / 0.9, 12);
    expect(reading.probabilities.excellent).toBeCloseTo(0.1 / 0.9, 12);
    expect(reading.probabilities.bad + reading.probabilities.poor).toBe(0);
  });

  it('reads the first level-word position, after a preamble token', () => {
    const reading = readLevels({ content: '\nPoor.', tokens: [token('\n', [['\n', 1]]), token('Poor', [['Poor', 0.6], ['Bad', 0.4]]), token('.', [['.', 1]])] }, forms);
    expect(reading).toMatchObject({ ok: true, word: 'poor', probabilities: { bad: 0.4, poor: 0.6 } });
  });

  it('counts the chosen token when the server left it out of its alternatives', () => {
    const reading = readLevels({ content: 'fair', tokens: [{ token: 'fair', logprob: Math.log(0.5), top: [{ token: 'good', logprob: Math.log(0.5) }] }] }, forms);
    expect(reading).toMatchObject({ ok: true, probabilities: { fair: 0.5, good: 0.5 } });
  });

  it('takes the word alone without logprobs, and refuses nonsense and several levels', () => {
    expect(readLevels({ content: '**Excellent**', tokens: null }, forms)).toMatchObject({ ok: true, basis: 'word', probabilities: { excellent: 1 } });
    expect(readLevels({ content: 'I would say it is decent overall', tokens: null }, forms)).toEqual({ ok: false, reason: 'not judged: the judge answered "I would say it is decent overall", not one of bad, poor, fair, good, excellent' });
    expect(readLevels({ content: 'Between fair and good', tokens: null }, forms)).toMatchObject({ ok: false, reason: expect.stringContaining('naming several levels (fair, good)') });
    expect(readLevels({ content: 'Decent', tokens: [token('Decent', [['Decent', 0.7], ['good', 0.3]])] }, forms)).toMatchObject({ ok: false });
  });
});

describe('expectedMosOf', () => {
  it('weighs the level centres bad 0.5 … excellent 4.5', () => {
    expect(expectedMosOf({ bad: 1, poor: 0, fair: 0, good: 0, excellent: 0 })).toBe(0.5);
    expect(expectedMosOf({ bad: 0, poor: 0, fair: 0.5, good: 0, excellent: 0.5 })).toBe(3.5);
    expect(expectedMosOf({ bad: 0.2, poor: 0.2, fair: 0.2, good: 0.2, excellent: 0.2 })).toBeCloseTo(2.5, 12);
  });
});

describe('normaliseToken and firstSentence', () => {
  it('drops leading spaces, BPE markers and markdown, and folds case', () => {
    expect(['Good', ' good', 'GOOD', 'Ġgood', '▁Good', '**Good**', '"good".'].map(normaliseToken)).toEqual(Array(7).fill('good'));
  });

  it('keeps the first sentence of the description, markdown and a label dropped, within the cap', () => {
    expect(firstSentence('**Quality:** The fox is sharp. Colours are natural.', 200)).toBe('The fox is sharp.');
    expect(firstSentence('No full stop here', 200)).toBe('No full stop here');
    expect(firstSentence('A'.repeat(300), 50)).toBe(`${'A'.repeat(49)}…`);
  });
});
