// The `predictor` entry of pack.json: which ONNX file turns [image tokens; round tokens] into MOS,
// how its inputs are built, and what it was trained on (the numbers that justify shipping it).
import { z } from 'zod';
import { ASPECTS } from './aspects.js';

/**
 * Where a round's evidence features come from: the classical signals (lite quality round), the CLIP
 * rounds' similarities, or a judge's answer (level distribution, entropy, description embedding).
 */
export const EVIDENCE_SOURCES = ['signals', 'none', 'clip-similarities', 'judge'] as const;

/** What the image tokens are: the lite model's spatial map pooled to a grid, or one CLIP image embedding. */
export const IMAGE_TOKEN_SOURCES = ['lite-spatial', 'clip-image-embedding'] as const;

/**
 * The feature/token layout, versioned (src/model/predictor-layout.ts documents each version): a pack
 * trained on one layout must be fed that layout. Packs without it predate versioning: `lite/1`.
 */
export const featureLayoutSchema = z
  .object({
    version: z.enum(['lite/1', 'clip/1', 'judge/1']),
    imageTokens: z
      .object({
        source: z.enum(IMAGE_TOKEN_SOURCES),
        /** The pack whose encoder makes them, when it is not this pack (a judge pack's fast pack). */
        pack: z.object({ name: z.string().min(1), version: z.string().min(1) }).strict().optional(),
      })
      .strict(),
    /** Per round: the names of its columns after the 5 level values, in order (padding not listed). */
    rounds: z.partialRecord(z.enum(ASPECTS), z.array(z.string().min(1)).max(4096)),
  })
  .strict();

export type FeatureLayout = z.infer<typeof featureLayoutSchema>;

export const predictorManifestSchema = z
  .object({
    file: z.string().min(1),
    kind: z.enum(['xlstm', 'mlp']),
    /** Image tokens: the backbone's spatial map, mean over crops, average-pooled onto grid × grid. */
    tokenGrid: z.number().int().min(1).max(7),
    tokenDim: z.number().int().positive(),
    /** Evidence features of each round, padded with zeros to `evidenceWidth`. */
    evidence: z.partialRecord(z.enum(ASPECTS), z.enum(EVIDENCE_SOURCES)),
    evidenceWidth: z.number().int().nonnegative(),
    /** The graph's output columns: one per aspect in ASPECTS order, then overall. */
    outputs: z.array(z.string()).min(2),
    features: featureLayoutSchema.optional(),
    /** The aspects whose MOS the predictor learned (rated in its data); others keep the pack's own. */
    aspects: z.array(z.enum(ASPECTS)).min(1).optional(),
    config: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

export type PredictorManifest = z.infer<typeof predictorManifestSchema>;
