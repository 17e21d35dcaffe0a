// The schema of a model pack's `pack.json`: what the pack judges, its files with hashes and licenses,
// how its inputs are prepared, and the provenance and measured metrics of what it learned.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ASPECTS } from './aspects.js';
import { predictorManifestSchema } from './predictor-manifest.js';
import { clipInputSchema } from './clip/clip-input.js';
import { judgeInputDigest, judgeInputSchema } from './judge/judge-input.js';

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'expected a lowercase hex sha256 (64 characters)');

export const packFileSchema = z
  .object({
    path: z.string().min(1).refine((p) => !p.includes('..') && !p.startsWith('/'), 'must be a relative path inside the pack'),
    sha256: sha256Hex,
    bytes: z.number().int().nonnegative(),
    license: z.string().min(1),
    source: z.string().min(1),
  })
  .strict();

const liteCropsInputSchema = z
  .object({
    kind: z.literal('lite-crops'),
    cropSize: z.number().int().positive(),
    crops: z.number().int().min(1).max(8),
    signalsVersion: z.string().min(1),
    signalCount: z.number().int().positive(),
  })
  .strict();

export const packInputSchema = z.discriminatedUnion('kind', [liteCropsInputSchema, clipInputSchema, judgeInputSchema]);

const metricSetSchema = z.record(z.string(), z.unknown());

export const packManifestSchema = z
  .object({
    schemaVersion: z.literal(1),
    name: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'lowercase letters, digits, ".", "_" or "-"'),
    version: z.string().min(1),
    description: z.string(),
    license: z.string().min(1),
    aspects: z.array(z.enum(ASPECTS)).min(1),
    /** Every file the pack loads; a judge pack (a model server answers) has none. */
    files: z.array(packFileSchema),
    input: packInputSchema,
    models: z.record(z.string(), z.object({ file: z.string().min(1) }).strict()),
    predictor: predictorManifestSchema.nullable(),
    training: z.record(z.string(), z.unknown()),
    metrics: metricSetSchema,
  })
  .strict()
  .superRefine((manifest, ctx) => {
    if (manifest.input.kind !== 'judge' && manifest.files.length === 0) {
      ctx.addIssue({ code: 'custom', path: ['files'], message: 'a pack that runs a model needs at least one file' });
    }
    if (manifest.input.kind === 'judge') {
      // The score cache is keyed by pack name + version: a judge pack whose settings changed must
      // not answer with results stored under its old settings.
      const digest = judgeInputDigest(manifest.input);
      if (!manifest.version.endsWith(`+${digest}`)) {
        ctx.addIssue({ code: 'custom', path: ['version'], message: `a judge pack's version ends with the digest of its input (+${digest}); its settings changed since it was written: set "version" to "${manifest.version.split('+')[0]}+${digest}" or run \`agiqa models add\` again` });
      }
    }
    const declared = new Set(manifest.files.map((f) => f.path));
    for (const [role, model] of Object.entries(manifest.models)) {
      if (!declared.has(model.file)) {
        ctx.addIssue({ code: 'custom', path: ['models', role, 'file'], message: `${model.file} is not listed in files[]` });
      }
    }
    if (manifest.predictor !== null && !declared.has(manifest.predictor.file)) {
      ctx.addIssue({ code: 'custom', path: ['predictor', 'file'], message: `${manifest.predictor.file} is not listed in files[]` });
    }
  });

export type PackManifest = z.infer<typeof packManifestSchema>;
export type PackFile = z.infer<typeof packFileSchema>;

/** A short digest of a pack's files: its version changes whenever one of them does. */
export function filesDigest(files: readonly { path: string; sha256: string }[]): string {
  const hash = createHash('sha256');
  for (const f of [...files].sort((a, b) => a.path.localeCompare(b.path))) hash.update(`${f.path}\0${f.sha256}\n`);
  return hash.digest('hex').slice(0, 12);
}
