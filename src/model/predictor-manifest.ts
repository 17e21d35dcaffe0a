// The `predictor` entry of pack.json: which ONNX file turns [image tokens; round tokens] into MOS,
// how its inputs are built, and what it was trained on (the numbers that justify shipping it).
import { z } from 'zod';
import { ASPECTS } from './aspects.js';

/** Where a round's evidence features come from; the lite pack's quality round uses the classical signals. */
export const EVIDENCE_SOURCES = ['signals', 'none'] as const;

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
    config: z.record(z.string(), z.unknown()).optional(),
  })
  .strict();

export type PredictorManifest = z.infer<typeof predictorManifestSchema>;
