// Every request and response body of the HTTP API as zod schemas: requests are validated with them
// and the OpenAPI document is generated from them, so the two cannot drift apart.
import { z } from 'zod';
import { verdictSchema } from '../policy/index.js';
import { scoreResultSchema } from '../scoring/score-result.js';

export const MAX_RANK_IMAGES = 64;
const MAX_TEXT = 20_000;

export const externalIdsSchema = z
  .object({
    /** ComfyUI prompt_id, A1111 task id, … */
    promptId: z.string().max(200).optional(),
    node: z.string().max(200).optional(),
    filename: z.string().max(1_000).optional(),
  })
  .strict();

/** The ids a whole batch shares: the prompt and the node that made it (file names are per image). */
export const rankExternalIdsSchema = externalIdsSchema.pick({ promptId: true, node: true }).strict();

/** What a client may tell about one image besides its bytes (JSON fields, multipart fields or query). */
export const scoreMetadataSchema = z
  .object({
    prompt: z.string().max(MAX_TEXT).optional(),
    negativePrompt: z.string().max(MAX_TEXT).optional(),
    /** Who sends it, e.g. `comfyui`; free lowercase word. */
    source: z.string().regex(/^[a-z0-9_-]{1,32}$/, 'expected a lowercase word like "comfyui"').optional(),
    /** The generation this image regenerates (lineage). */
    parentId: z.number().int().positive().optional(),
    external: externalIdsSchema.optional(),
  })
  .strict();
export type ScoreMetadata = z.infer<typeof scoreMetadataSchema>;

/** One image in a JSON body: base64 bytes (a data: URL is accepted) or a path inside the configured roots. */
const imageSourceShape = {
  image: z.string().min(1).optional().describe('base64-encoded image bytes, or a data: URL'),
  path: z.string().min(1).max(4_096).optional().describe('a file path inside one of the configured roots'),
  name: z.string().max(1_000).optional().describe('a name for messages and history (default: the path or "upload")'),
};

function exactlyOneSource(value: { image?: string | undefined; path?: string | undefined }, ctx: z.RefinementCtx): void {
  if ((value.image === undefined) === (value.path === undefined)) {
    ctx.addIssue({ code: 'custom', message: 'give exactly one of "image" (base64) or "path"', path: [] });
  }
}

export const scoreJsonRequestSchema = scoreMetadataSchema.extend(imageSourceShape).strict().superRefine(exactlyOneSource);
export type ScoreJsonRequest = z.infer<typeof scoreJsonRequestSchema>;

export const rankImageSchema = z
  .object({ ...imageSourceShape, external: externalIdsSchema.optional() })
  .strict()
  .superRefine(exactlyOneSource);

export const rankJsonRequestSchema = z
  .object({
    prompt: z.string().max(MAX_TEXT).optional(),
    negativePrompt: z.string().max(MAX_TEXT).optional(),
    source: scoreMetadataSchema.shape.source,
    parentId: scoreMetadataSchema.shape.parentId,
    /** The batch's ComfyUI prompt and node (a ComfyUI node scoring its batch); each image may add its filename. */
    external: rankExternalIdsSchema.optional(),
    topK: z.number().int().positive().optional(),
    keepAtLeast: z.number().int().nonnegative().optional(),
    images: z.array(rankImageSchema).min(1).max(MAX_RANK_IMAGES),
  })
  .strict();
export type RankJsonRequest = z.infer<typeof rankJsonRequestSchema>;

export const scoreResponseSchema = z
  .object({
    generationId: z.number().int(),
    /** True when this image + prompt was already scored by this pack version: the stored result. */
    cached: z.boolean(),
    result: scoreResultSchema,
    verdict: verdictSchema,
  })
  .strict();
export type ScoreResponse = z.infer<typeof scoreResponseSchema>;

export const rankResponseSchema = z
  .object({
    /** Indices into the request's images, best first. */
    order: z.array(z.number().int()),
    topK: z.array(z.number().int()),
    /** Indices accepted by the policy, best first. */
    passing: z.array(z.number().int()),
    items: z.array(
      z
        .object({ index: z.number().int(), rank: z.number().int(), generationId: z.number().int(), cached: z.boolean(), result: scoreResultSchema, verdict: verdictSchema })
        .strict(),
    ),
  })
  .strict();
export type RankResponse = z.infer<typeof rankResponseSchema>;

const digits = z.string().regex(/^\d+$/, 'expected a whole number');

export const generationsQuerySchema = z
  .object({
    prompt: z.string().max(MAX_TEXT).optional(),
    verdict: z.enum(['accept', 'reject']).optional(),
    promptId: externalIdsSchema.shape.promptId.describe('the ComfyUI prompt id (or another UI\'s task id) the generation came from'),
    node: externalIdsSchema.shape.node.describe('the ComfyUI node id that sent or saved it'),
    /** A generation id (exclusive) or an ISO 8601 date-time (inclusive). */
    since: z.union([digits, z.iso.datetime({ offset: true })]).optional(),
    limit: digits.optional().describe('1–500, default 50'),
  })
  .strict();

export const generationSchema = z
  .object({
    id: z.number().int(),
    createdAt: z.string(),
    source: z.string(),
    external: z.object({ promptId: z.string().nullable(), node: z.string().nullable(), filename: z.string().nullable() }).strict(),
    /** The effective prompt: given with the image, or recovered from the image's metadata. */
    prompt: z.string().nullable(),
    promptSource: z.enum(['argument', 'embedded', 'none']).describe('where prompt came from: given (argument), recovered from the image (embedded), none'),
    negativePrompt: z.string().nullable(),
    image: z
      .object({ sha256: z.string(), width: z.number().int().nullable(), height: z.number().int().nullable(), bytes: z.number().int(), file: z.string().nullable() })
      .strict(),
    parentId: z.number().int().nullable(),
    scores: z.array(
      z
        .object({
          id: z.number().int(),
          createdAt: z.string(),
          pack: z.object({ name: z.string(), version: z.string() }).strict(),
          mos: z.number(),
          level: z.string(),
          verdict: verdictSchema.nullable(),
          result: scoreResultSchema,
        })
        .strict(),
    ),
  })
  .strict();

export const generationsResponseSchema = z.object({ generations: z.array(generationSchema) }).strict();

export const packsResponseSchema = z
  .object({
    /** The pack this server scores with; null while it is loading. */
    active: z.object({ name: z.string(), version: z.string() }).strict().nullable(),
    installed: z.array(z.object({ name: z.string(), version: z.string(), aspects: z.array(z.string()), embedded: z.boolean() }).strict()),
  })
  .strict();

const checkSchema = z.object({ ok: z.boolean(), code: z.string().optional(), message: z.string().optional() }).strict();

export const healthResponseSchema = z
  .object({
    status: z.enum(['ok', 'starting', 'unhealthy']),
    /** True when the pack is loaded and the database is writable: score requests will be served. */
    ready: z.boolean(),
    pack: z.object({ name: z.string(), version: z.string() }).strict().nullable(),
    checks: z.object({ scorer: checkSchema, store: checkSchema }).strict().optional(),
    queue: z.object({ inFlight: z.number().int(), capacity: z.number().int() }).strict().optional(),
  })
  .strict();
export type HealthResponse = z.infer<typeof healthResponseSchema>;

export const errorResponseSchema = z
  .object({ error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }).strict() })
  .strict();

/** One message on the WebSocket stream /v1/events. */
export const eventMessageSchema = z
  .object({
    /** The cursor: reconnect with `?since=<id>` to receive everything after it. */
    id: z.number().int(),
    type: z.enum(['generation.scored', 'generation.verdict']),
    createdAt: z.string(),
    data: z.record(z.string(), z.unknown()),
  })
  .strict();
