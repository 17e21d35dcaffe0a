// The request and response bodies of the dashboard's routes (settings, feed, prompt view, ComfyUI
// verdicts) as zod schemas: the routes validate with them and the OpenAPI document is built from them.
import { z } from 'zod';
import { settingsSchema } from '../config/index.js';
import { verdictSchema } from '../policy/index.js';
import { ASPECTS, detectionSchema, findingSchema, LEVELS } from '../scoring/score-result.js';
import { FEED_SORTS } from '../store/index.js';

const digits = z.string().regex(/^\d+$/, 'expected a whole number');

export const feedQuerySchema = z
  .object({
    verdict: z.enum(['accept', 'reject']).optional(),
    source: z.string().regex(/^[a-z0-9_-]{1,32}$/, 'expected a lowercase word like "comfyui"').optional(),
    pack: z.string().min(1).max(100).optional(),
    aspect: z.enum(ASPECTS).optional(),
    level: z.enum(LEVELS).optional().describe('with aspect: only generations judged at this level'),
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
    sort: z.enum(FEED_SORTS).optional().describe('default newest'),
    order: z.enum(['desc', 'asc']).optional().describe('for score sorts: desc is best first (default)'),
    offset: digits.optional(),
    limit: digits.optional().describe('1–200, default 50'),
  })
  .strict()
  .refine((value) => (value.aspect === undefined) === (value.level === undefined), { message: 'give aspect and level together', path: ['level'] });

const aspectValue = z.object({ mos: z.number(), level: z.string() }).strict().nullable();

export const feedItemSchema = z
  .object({
    id: z.number().int(),
    createdAt: z.string(),
    source: z.string(),
    external: z.object({ promptId: z.string().nullable(), node: z.string().nullable(), filename: z.string().nullable() }).strict(),
    prompt: z.string().nullable(),
    negativePrompt: z.string().nullable(),
    promptKey: z.string(),
    image: z.object({ sha256: z.string(), width: z.number().int().nullable(), height: z.number().int().nullable(), file: z.string().nullable() }).strict(),
    parentId: z.number().int().nullable(),
    childIds: z.array(z.number().int()),
    pack: z.object({ name: z.string(), version: z.string() }).strict(),
    mos: z.number(),
    level: z.string(),
    verdict: verdictSchema.nullable(),
    aspects: z.object({ quality: aspectValue, correspondence: aspectValue, authenticity: aspectValue }).strict(),
    /** `info` findings report ("all 2 object checks pass"); `minor` and `major` ones are problems. */
    findings: z.array(findingSchema.pick({ text: true, severity: true }).strict()),
    params: z.object({ seed: z.number().optional(), sampler: z.string().optional(), scheduler: z.string().optional(), steps: z.number().optional(), cfg: z.number().optional() }).strict().nullable(),
    /** The latest score's object boxes in the image's pixels, most confident first; [] when no detector ran. */
    detections: z.array(detectionSchema),
  })
  .strict();

export const feedResponseSchema = z.object({ items: z.array(feedItemSchema), nextOffset: z.number().int().nullable() }).strict();

const diffPartSchema = z.object({ op: z.enum(['same', 'added', 'removed']), text: z.string() }).strict();

export const promptViewSchema = z
  .object({
    promptKey: z.string(),
    attempts: z.array(feedItemSchema),
    /** The attempt with the highest MOS among the accepted ones, else overall. */
    bestId: z.number().int().nullable(),
    /** Findings in more than one attempt, most frequent first: "strong blur" in 7 of 9. */
    recurringFindings: z.array(z.object({ text: z.string(), count: z.number().int(), of: z.number().int() }).strict()),
    /** What changed from each attempt to the next, and how the scores moved. */
    changes: z.array(
      z
        .object({
          from: z.number().int(),
          to: z.number().int(),
          prompt: z.array(diffPartSchema),
          negativePrompt: z.array(diffPartSchema),
          params: z.record(z.string(), z.object({ from: z.union([z.string(), z.number()]).nullable(), to: z.union([z.string(), z.number()]).nullable() }).strict()),
          mosDelta: z.number(),
        })
        .strict(),
    ),
  })
  .strict();
export type PromptView = z.infer<typeof promptViewSchema>;

export const comfyFileSchema = z
  .object({ filename: z.string().min(1).max(1_000), subfolder: z.string().max(1_000).default(''), type: z.string().min(1).max(20).default('output') })
  .strict();

export const comfyVerdictsRequestSchema = z.object({ files: z.array(comfyFileSchema).min(1).max(500) }).strict();

export const comfyVerdictsResponseSchema = z
  .object({
    verdicts: z.array(
      z
        .object({
          generationId: z.number().int(),
          mos: z.number(),
          level: z.string(),
          rank: z.number().int().nullable(),
          verdict: verdictSchema.nullable(),
          /** The scored image's size: the boxes are in its pixels. */
          image: z.object({ width: z.number().int().nullable(), height: z.number().int().nullable() }).strict(),
          detections: z.array(detectionSchema),
        })
        .strict()
        .nullable(),
    ),
  })
  .strict();

export { settingsSchema };
