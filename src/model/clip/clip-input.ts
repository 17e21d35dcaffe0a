// The `input` block of a CLIP-family pack's pack.json: how its encoders are loaded and the zero-shot
// rounds' anchor texts, temperatures and calibration. They live in the pack, not in code, so that a
// better-calibrated pack needs no new agiqa release.
import { z } from 'zod';
import { LEVELS } from '../aspects.js';

const text = z.string().trim().min(1).max(300);
const positive = z.number().positive();

/** One anchor set per level, bad…excellent; several texts per level are averaged (prompt ensembling). */
const levelAnchorsSchema = z
  .object(Object.fromEntries(LEVELS.map((level) => [level, z.array(text).min(1).max(16)])) as Record<(typeof LEVELS)[number], z.ZodArray<typeof text>>)
  .strict();

const levelBiasSchema = z.array(z.number()).length(LEVELS.length);

/** Maps a cosine similarity onto MOS 0–5 linearly: `low` → 0, `high` → 5 (clamped). */
const similarityCalibrationSchema = z
  .object({ low: z.number().min(-1).max(1), high: z.number().min(-1).max(1) })
  .strict()
  .refine((c) => c.high > c.low, { message: 'high must be greater than low' });

export const clipRoundsSchema = z
  .object({
    quality: z
      .object({
        anchors: levelAnchorsSchema,
        /** Softmax temperature over the anchors' cosine similarities (CLIP's own is 0.01). */
        temperature: positive,
        /** Added to each level's logit: the calibration learnt on rated data, zeros when zero-shot. */
        levelBias: levelBiasSchema,
      })
      .strict(),
    correspondence: z
      .object({
        /** Wraps each noun phrase of the prompt, `{}` marks where, e.g. "a photo of {}". */
        phraseTemplate: text.refine((t) => t.includes('{}'), 'must contain {} where the phrase goes'),
        similarity: similarityCalibrationSchema,
        /** Width (in MOS units) of the level distribution placed around the calibrated MOS. */
        spread: positive,
        /** Weight of the noun phrases' mean against the whole prompt, 0–1. */
        phraseWeight: z.number().min(0).max(1),
        /** A phrase whose calibrated MOS is below this is reported as barely present. */
        weakPhraseMos: z.number().min(0).max(5),
        maxPhrases: z.number().int().min(1).max(32),
        /** Words that are no part of the scene (quality tags): dropped from the phrases, not from the prompt. */
        ignoreTerms: z.array(z.string().min(1)).max(200),
      })
      .strict(),
    authenticity: z
      .object({
        real: z.array(text).min(1).max(32),
        artifact: z.array(text).min(1).max(32),
        temperature: positive,
        spread: positive,
      })
      .strict(),
  })
  .strict();

export const clipInputSchema = z
  .object({
    kind: z.literal('clip'),
    /** The encoder family: decides pooling conventions and which transformers.js classes load it. */
    family: z.enum(['clip', 'siglip', 'mobileclip']),
    /** transformers.js dtype of the ONNX files (`q8` → onnx/*_quantized.onnx, `fp32` → onnx/*.onnx). */
    dtype: z.enum(['fp32', 'fp16', 'q8', 'int8', 'uint8', 'q4']),
    /** Longest text in tokens the text tower reads (CLIP: 77, SigLIP: 64); longer prompts are cut. */
    maxTextTokens: z.number().int().min(4).max(1024),
    /** SigLIP was trained on texts padded to the full length; CLIP pads to the longest in a batch. */
    textPadding: z.enum(['longest', 'max_length']),
    /** Output names holding the projected embeddings. */
    imageEmbedding: z.string().min(1),
    textEmbedding: z.string().min(1),
    /** Prompts whose embeddings are kept (LRU); a batch sharing a prompt encodes it once. */
    promptCacheSize: z.number().int().min(1).max(100_000),
    rounds: clipRoundsSchema,
  })
  .strict();

export type ClipInput = z.infer<typeof clipInputSchema>;
export type ClipRounds = z.infer<typeof clipRoundsSchema>;
