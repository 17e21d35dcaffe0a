// The M3 rounds through a model server, per aspect in one conversation: round 1 asks for an analysis
// of the aspect (image + prompt), round 2 — with round 1's question and answer kept — for one word of
// bad…excellent. The word's distribution gives the level probabilities and, by expectation over the
// level centres, the MOS. Aspects run concurrently within the server's limit.
import { performance } from 'node:perf_hooks';
import { dataUrlOf, encodeForModel, type DecodedImage } from '../../image/index.js';
import { chatCompletion, limiterFor, type ChatMessage, type Sleep } from '../../model/judge/judge-client.js';
import type { JudgeInput } from '../../model/judge/judge-input.js';
import { LEVEL_CENTRES } from '../rounds/level-logits.js';
import { round } from '../levels.js';
import { ASPECTS, LEVELS, levelOfMos, type Aspect, type AspectScore } from '../score-result.js';
import { firstSentence, readLevels } from './level-distribution.js';

/** One aspect as the judge saw it. */
export type JudgedAspect =
  | (AspectScore & {
      /** Round 1's answer in full, and its first sentence (the finding). */
      description: string;
      finding: string;
      /** Round 2's answer text. */
      answer: string;
      /** 'word-only': the server sent no log-probabilities, the distribution is the word alone. */
      flags: ('word-only')[];
      /** Probability mass of the five level words before renormalising. */
      levelMass: number;
      ms: number;
    })
  | { mos: null; reason: string; description: string | null; ms: number };

export type JudgeVerdict = Record<Aspect, JudgedAspect>;

export interface JudgeOptions {
  /** Aspects to ask about (default all three). */
  aspects?: readonly Aspect[] | undefined;
  sleep?: Sleep | undefined;
}

function describeText(input: JudgeInput, aspect: Aspect, prompt: string | null): string | null {
  const texts = input.rounds.aspects[aspect];
  if (prompt === null || prompt.trim() === '') return texts.describeWithoutPrompt;
  // A function replacement: `$&` and friends in a user's prompt stay literal.
  return texts.describe.replace('{prompt}', () => prompt);
}

/** The MOS a level distribution expects: Σ p(level) × its centre (bad 0.5 … excellent 4.5). */
export function expectedMosOf(probabilities: Record<(typeof LEVELS)[number], number>): number {
  return LEVELS.reduce((sum, level, i) => sum + probabilities[level] * LEVEL_CENTRES[i]!, 0);
}

async function judgeAspect(input: JudgeInput, aspect: Aspect, imageUrl: string, prompt: string | null, sleep: Sleep | undefined): Promise<JudgedAspect> {
  const start = performance.now();
  const describe = describeText(input, aspect, prompt);
  if (describe === null) {
    return { mos: null, reason: 'not judged: no prompt was given and none is embedded in the image; pass the prompt (--prompt, or "prompt" in the API) to judge correspondence', description: null, ms: 0 };
  }
  const { server, decoding } = input;
  const limiter = limiterFor(server);
  const first: ChatMessage = { role: 'user', content: [{ type: 'image_url', image_url: { url: imageUrl } }, { type: 'text', text: describe }] };
  const described = await limiter.run(() =>
    chatCompletion(server, { messages: [first], maxTokens: decoding.describeMaxTokens, temperature: decoding.temperature, seed: decoding.seed, topLogprobs: null }, { sleep }),
  );
  const description = described.content.trim();
  const history: ChatMessage[] = [first, { role: 'assistant', content: description }, { role: 'user', content: input.rounds.aspects[aspect].rate }];
  const rated = await limiter.run(() =>
    chatCompletion(server, { messages: history, maxTokens: decoding.rateMaxTokens, temperature: decoding.temperature, seed: decoding.seed, topLogprobs: decoding.topLogprobs }, { sleep }),
  );
  const ms = round(performance.now() - start, 1);
  const reading = readLevels(rated, input.levelForms);
  if (!reading.ok) return { mos: null, reason: reading.reason, description, ms };
  const probabilities = Object.fromEntries(LEVELS.map((l) => [l, round(reading.probabilities[l], 4)])) as AspectScore['probabilities'];
  const mos = round(expectedMosOf(reading.probabilities), 3);
  return {
    mos,
    level: levelOfMos(mos),
    probabilities,
    description,
    finding: firstSentence(description, input.findingMaxChars),
    answer: rated.content.trim(),
    flags: reading.basis === 'word' ? ['word-only'] : [],
    levelMass: round(reading.mass, 4),
    ms,
  };
}

/**
 * Runs both rounds for each aspect on one decoded image (sent once per aspect conversation, scaled to
 * the pack's size). Server failures throw the client's AGQ_ERR_JUDGE_* errors; an answer without a
 * level word makes that aspect null with the reason.
 */
export async function judgeImage(input: JudgeInput, image: Pick<DecodedImage, 'rgb' | 'width' | 'height'>, prompt: string | null, options: JudgeOptions = {}): Promise<JudgeVerdict> {
  const encoded = await encodeForModel(image, input.image);
  const url = dataUrlOf(encoded);
  const asked = options.aspects ?? ASPECTS;
  const notAsked = (aspect: Aspect): JudgedAspect => ({ mos: null, reason: `not judged: the ${aspect} round was not asked for`, description: null, ms: 0 });
  const settled = await Promise.allSettled(ASPECTS.map((aspect) => (asked.includes(aspect) ? judgeAspect(input, aspect, url, prompt, options.sleep) : Promise.resolve(notAsked(aspect)))));
  // A server failure fails the image (all aspects share the server), reported with its own code.
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
  const values = settled.map((s) => (s as PromiseFulfilledResult<JudgedAspect>).value);
  return { quality: values[0]!, correspondence: values[1]!, authenticity: values[2]! };
}
