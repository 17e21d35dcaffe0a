// The `input` of a judge pack's pack.json: which OpenAI-compatible server and model answer, the two
// round texts per aspect (data with their source, never code), decoding settings, the image size sent,
// the level words' accepted token forms, and the limits on concurrency, time and retries.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { LEVELS } from '../aspects.js';

const httpUrl = z
  .string()
  .url()
  .refine((u) => /^https?:\/\//.test(u), 'expected an http:// or https:// URL');

const aspectRoundsSchema = z
  .object({
    /** Round 1: asks for an analysis of the aspect; `{prompt}` is replaced by the generation prompt. */
    describe: z.string().min(1),
    /** Round 1 when the prompt is unknown; null: the aspect is not judged without a prompt. */
    describeWithoutPrompt: z.string().min(1).nullable(),
    /** Round 2: asks for one word of bad, poor, fair, good, excellent. */
    rate: z.string().min(1),
  })
  .strict();

export const judgeRoundsSchema = z
  .object({
    id: z.string().min(1),
    version: z.string().min(1),
    source: z.record(z.string(), z.unknown()),
    levels: z.tuple([z.literal('bad'), z.literal('poor'), z.literal('fair'), z.literal('good'), z.literal('excellent')]),
    aspects: z.object({ quality: aspectRoundsSchema, correspondence: aspectRoundsSchema, authenticity: aspectRoundsSchema }).strict(),
  })
  .strict();
export type JudgeRounds = z.infer<typeof judgeRoundsSchema>;

const levelFormsSchema = z
  .object(Object.fromEntries(LEVELS.map((l) => [l, z.array(z.string().min(1).regex(/^[a-z]+$/, 'lowercase letters only')).min(1)])) as Record<(typeof LEVELS)[number], z.ZodArray<z.ZodString>>)
  .strict();

export const judgeInputSchema = z
  .object({
    kind: z.literal('judge'),
    server: z
      .object({
        /** Base URL of the server; requests go to `<url>/v1/chat/completions`. */
        url: httpUrl,
        /** What `models add` found answering: decides the extra request fields (llama.cpp: n_probs). */
        flavor: z.enum(['ollama', 'llama.cpp', 'openai']),
        model: z.string().min(1),
        /** Name of the environment variable holding the API key, sent as a Bearer token. */
        apiKeyEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/).nullable(),
        /** Requests this pack keeps in flight against the server at once (its parallel slots). */
        concurrency: z.number().int().min(1).max(64),
        /** Time allowed for one answer, in ms. */
        timeoutMs: z.number().int().min(100).max(600_000),
        /** Further attempts after a 429, a 5xx or a dropped connection; delays double from `backoffMs`. */
        retries: z.number().int().min(0).max(10),
        backoffMs: z.number().int().min(0).max(60_000),
      })
      .strict(),
    image: z
      .object({
        /** Longest side sent, in pixels (never enlarged). */
        maxSide: z.number().int().min(32).max(4096),
        format: z.enum(['png', 'jpeg']),
      })
      .strict(),
    decoding: z
      .object({
        temperature: z.number().min(0).max(2),
        /** Round 1's token budget (the paper's descriptions run ~40–60 words). */
        describeMaxTokens: z.number().int().min(1).max(4096),
        /** Round 2's token budget: the word, and room for a leading space or a full stop. */
        rateMaxTokens: z.number().int().min(1).max(64),
        /** Alternatives per token asked for (Ollama and OpenAI cap it at 20). */
        topLogprobs: z.number().int().min(1).max(20),
        seed: z.number().int().nullable(),
      })
      .strict(),
    /** Token forms counted for each level after case folding and dropping a leading space/marker. */
    levelForms: levelFormsSchema,
    /** Longest finding kept from a round-1 description, in characters. */
    findingMaxChars: z.number().int().min(20).max(1000),
    rounds: judgeRoundsSchema,
  })
  .strict();
export type JudgeInput = z.infer<typeof judgeInputSchema>;

/** Short digest of everything that changes a judge pack's answers; its version carries it. */
export function judgeInputDigest(input: JudgeInput): string {
  const relevant = { server: { url: input.server.url, model: input.server.model, flavor: input.server.flavor }, image: input.image, decoding: input.decoding, levelForms: input.levelForms, findingMaxChars: input.findingMaxChars, rounds: input.rounds };
  return createHash('sha256').update(JSON.stringify(relevant)).digest('hex').slice(0, 12);
}
