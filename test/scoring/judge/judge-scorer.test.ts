// The judge scorer against the server double: both rounds per aspect with the conversation kept, the
// image sent once per conversation at the pack's size, the expectation arithmetic, the no-logprobs and
// nonsense answers, the concurrency limit, and the server failures as coded errors.
import { afterEach, describe, expect, it } from 'vitest';
import { JudgeScorer, judgeWithPack } from '../../../src/scoring/judge/judge-scorer.js';
import { createScorer } from '../../../src/scoring/index.js';
import { scoreResultSchema } from '../../../src/scoring/score-result.js';
import { startJudgeDouble, DEFAULT_DESCRIPTION, type RateAnswer, type RunningDouble } from '../../fixtures/judge/judge-double.js';
import { makeJudgePack } from '../../fixtures/judge/judge-pack.js';
import { encodePng } from '../../fixtures/server/png.js';

let double: RunningDouble | undefined;
afterEach(async () => {
  await double?.close();
  double = undefined;
});

const image = encodePng(1200, 600, 3);
const PROMPT = 'a red fox in fresh snow, golden hour';

describe('JudgeScorer', () => {
  it('asks two rounds per aspect, keeps the conversation, and sends the image once per conversation at the pack size', async () => {
    double = await startJudgeDouble({ flavor: 'llama.cpp' });
    const { pack } = await makeJudgePack(double.url, { image: { maxSide: 256 } });
    const scorer = JudgeScorer.create(pack);
    const result = await scorer.score({ image, name: 'fox.png', prompt: PROMPT });
    expect(scoreResultSchema.parse(result)).toEqual(result);

    const chats = double.chatRequests();
    expect(chats).toHaveLength(6);
    const first = chats.filter((c) => (c.body.messages as unknown[]).length === 1);
    const second = chats.filter((c) => (c.body.messages as unknown[]).length === 3);
    expect(first).toHaveLength(3);
    expect(second).toHaveLength(3);
    for (const c of first) {
      expect(c.images).toEqual([{ mime: 'image/png', width: 256, height: 128, bytes: expect.any(Number) }]);
      expect(c.body).toMatchObject({ model: 'minicpm-v:8b', temperature: 0, max_tokens: 160 });
      expect(c.body.logprobs).toBeUndefined();
    }
    const texts = first.map((c) => ((c.body.messages as { content: { type: string; text?: string }[] }[])[0]!.content.find((p) => p.type === 'text')!.text!));
    expect(texts.every((t) => t.includes(`The original prompt for the image was: '${PROMPT}'`))).toBe(true);
    expect(texts.some((t) => t.includes('detailed analysis of its overall quality'))).toBe(true);
    expect(texts.some((t) => t.includes('alignment with the original prompt'))).toBe(true);
    expect(texts.some((t) => t.includes('analysis of its authenticity'))).toBe(true);
    for (const c of second) {
      const [user, assistant, rate] = c.body.messages as { role: string; content: unknown }[];
      // The image is in the first user turn only; round 1's answer is the assistant turn.
      expect(c.images).toHaveLength(1);
      expect(user!.role).toBe('user');
      expect(assistant).toEqual({ role: 'assistant', content: DEFAULT_DESCRIPTION });
      expect(rate!.role).toBe('user');
      expect(String(rate!.content)).toMatch(/^Based on your analysis, could you please rate the image's .*\[bad, poor, fair, good, excellent\]/);
      expect(c.body).toMatchObject({ logprobs: true, top_logprobs: 20, n_probs: 20, max_tokens: 4, temperature: 0 });
    }

    // Good .6 + " good" .1, Excellent .2, Fair .05, Poor .03 ("The" is no level): renormalised over .98.
    const quality = result.aspects.quality;
    expect(quality.mos).not.toBeNull();
    if (quality.mos === null) return;
    expect(quality.probabilities).toEqual({ bad: 0, poor: 0.0306, fair: 0.051, good: 0.7143, excellent: 0.2041 });
    const expected = (0.03 * 1.5 + 0.05 * 2.5 + 0.7 * 3.5 + 0.2 * 4.5) / 0.98;
    expect(quality.mos).toBeCloseTo(expected, 3);
    expect(quality.level).toBe('good');
    expect(result.judge).toMatchObject({ pack: 'judge-test', model: 'minicpm-v:8b', aspects: { quality: { answer: 'Good', flags: [], levelMass: 0.98 } } });
    expect(result.findings).toContainEqual({ aspect: 'quality', code: 'judge-description', text: 'The image shows a red fox in fresh snow, sharply focused with natural colours.', severity: 'info' });
    expect(result.prompt).toEqual({ text: PROMPT, source: 'argument' });
    expect(result.pack).toEqual({ name: 'judge-test', version: pack.manifest.version });
  });

  it('reads Ollama answers (no n_probs sent), summing " Fair" and " fair" after a leading space', async () => {
    double = await startJudgeDouble({ flavor: 'ollama', rate: () => ({ first: { ' Fair': 0.5, ' fair': 0.25, ' Poor': 0.25 }, tail: ['.'] }) });
    const { pack } = await makeJudgePack(double.url, { flavor: 'ollama' });
    const result = await JudgeScorer.create(pack).score({ image, name: 'fox.png', prompt: PROMPT });
    expect(double.chatRequests().every((c) => c.body.n_probs === undefined)).toBe(true);
    expect(result.aspects.quality).toEqual({ mos: 2.25, level: 'fair', probabilities: { bad: 0, poor: 0.25, fair: 0.75, good: 0, excellent: 0 } });
  });

  it('flags the word alone when the server sends no log-probabilities', async () => {
    double = await startJudgeDouble({ flavor: 'ollama', logprobs: false, rate: () => ({ text: 'Excellent.' }) });
    const { pack } = await makeJudgePack(double.url, { flavor: 'ollama' });
    const result = await JudgeScorer.create(pack).score({ image, name: 'fox.png', prompt: PROMPT });
    expect(result.aspects.authenticity).toEqual({ mos: 4.5, level: 'excellent', probabilities: { bad: 0, poor: 0, fair: 0, good: 0, excellent: 1 } });
    expect(result.judge?.aspects.authenticity?.flags).toEqual(['word-only']);
    expect(result.findings.filter((f) => f.code === 'judge-word-only')).toHaveLength(3);
  });

  it('makes an aspect null with the reason when the answer is no level word, never a guess', async () => {
    double = await startJudgeDouble({
      flavor: 'llama.cpp',
      rate: (messages): RateAnswer => (String(messages.at(-1)!.content).includes('authenticity') ? { first: { Decent: 0.7, good: 0.3 } } : { first: { good: 1 } }),
    });
    const { pack } = await makeJudgePack(double.url);
    const result = await JudgeScorer.create(pack).score({ image, name: 'fox.png', prompt: PROMPT });
    expect(result.aspects.authenticity).toEqual({ mos: null, reason: 'not judged: the judge answered "Decent", not one of bad, poor, fair, good, excellent' });
    expect(result.aspects.quality).toMatchObject({ mos: 3.5, level: 'good' });
    expect(result.mos).toBe(3.5);
  });

  it('does not judge correspondence without a prompt, and asks only two conversations', async () => {
    double = await startJudgeDouble({ flavor: 'llama.cpp' });
    const { pack } = await makeJudgePack(double.url);
    const result = await JudgeScorer.create(pack).score({ image, name: 'fox.png' });
    expect(result.aspects.correspondence).toMatchObject({ mos: null, reason: expect.stringMatching(/^not judged: no prompt was given/) });
    expect(double.chatRequests()).toHaveLength(4);
    const texts = double.chatRequests().map((c) => JSON.stringify(c.body.messages));
    expect(texts.some((t) => t.includes('original prompt'))).toBe(false);
  });

  it('keeps at most the pack concurrency in flight against one server', async () => {
    double = await startJudgeDouble({ flavor: 'llama.cpp', delayMs: 40 });
    const { pack } = await makeJudgePack(double.url, { server: { concurrency: 2 } });
    await JudgeScorer.create(pack).score({ image, name: 'fox.png', prompt: PROMPT });
    const chats = double.chatRequests();
    // Arrival times: with 2 slots and 40 ms answers, no three requests arrive within one answer's time.
    const times = chats.map((c) => c.at).sort((a, b) => a - b);
    for (let i = 2; i < times.length; i++) expect(times[i]! - times[i - 2]!).toBeGreaterThanOrEqual(35);
  });

  it('retries 503 "Loading model" with backoff, then answers', async () => {
    double = await startJudgeDouble({ flavor: 'llama.cpp', loadingRequests: 2 });
    const { pack } = await makeJudgePack(double.url, { server: { concurrency: 1 } });
    const result = await JudgeScorer.create(pack).score({ image, name: 'fox.png', prompt: PROMPT });
    expect(result.aspects.quality.mos).not.toBeNull();
    expect(double.chatRequests()).toHaveLength(8);
  });

  it('fails with AGQ_ERR_JUDGE_NO_VISION, without retrying, when the model has no projector', async () => {
    for (const status of [400, 500, 501]) {
      double = await startJudgeDouble({ flavor: 'llama.cpp', vision: false, noVisionStatus: status });
      const { pack } = await makeJudgePack(double.url);
      await expect(JudgeScorer.create(pack).score({ image, name: 'fox.png', prompt: PROMPT })).rejects.toMatchObject({
        code: 'AGQ_ERR_JUDGE_NO_VISION',
        message: expect.stringContaining('you may need to provide the mmproj'),
      });
      expect(double.chatRequests()).toHaveLength(3);
      await double.close();
      double = undefined;
    }
  });

  it('gives the rounds without a ScoreResult to callers that train on them (judgeWithPack)', async () => {
    double = await startJudgeDouble({ flavor: 'llama.cpp' });
    const { pack } = await makeJudgePack(double.url);
    const verdict = await judgeWithPack(pack, image, PROMPT);
    expect(verdict.quality).toMatchObject({ level: 'good', description: DEFAULT_DESCRIPTION, flags: [], levelMass: 0.98 });
    expect(verdict.correspondence.mos).toBeCloseTo(3.592, 3);
  });

  it('is what createScorer returns for a judge pack, with no worker threads', async () => {
    double = await startJudgeDouble({ flavor: 'llama.cpp' });
    const { home } = await makeJudgePack(double.url);
    const scorer = await createScorer({ pack: 'judge-test', home });
    expect(scorer).toBeInstanceOf(JudgeScorer);
    expect(scorer.pack.name).toBe('judge-test');
    await scorer.close();
  });

  it('refuses a pack whose settings changed without a new version', async () => {
    double = await startJudgeDouble({ flavor: 'llama.cpp' });
    const { home, pack } = await makeJudgePack(double.url);
    const { readFile, writeFile } = await import('node:fs/promises');
    const file = `${pack.dir}/pack.json`;
    const json = JSON.parse(await readFile(file, 'utf8')) as { input: { decoding: { describeMaxTokens: number } } };
    json.input.decoding.describeMaxTokens = 300;
    await writeFile(file, JSON.stringify(json));
    await expect(createScorer({ pack: 'judge-test', home })).rejects.toMatchObject({ code: 'AGQ_ERR_PACK_INVALID', message: expect.stringContaining("a judge pack's version ends with the digest of its input") });
  });
});
