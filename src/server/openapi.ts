// GET /v1/openapi.json, generated from the same zod schemas that validate requests and responses.
import { generationDetectionsSchema } from './routes/generation-detections.js';
import { generationFileSchema } from './routes/generation-files.js';
import { z } from 'zod';
import { promptRankingSchema } from '../bridges/comfyui/index.js';
import {
  errorResponseSchema,
  eventMessageSchema,
  generationSchema,
  generationsQuerySchema,
  generationsResponseSchema,
  healthResponseSchema,
  packsResponseSchema,
  rankJsonRequestSchema,
  rankResponseSchema,
  scoreJsonRequestSchema,
  scoreMetadataSchema,
  scoreResponseSchema,
} from './schemas.js';
import { comfyVerdictsRequestSchema, comfyVerdictsResponseSchema, feedQuerySchema, feedResponseSchema, promptViewSchema, settingsSchema } from './dashboard-schemas.js';

type JsonSchema = Record<string, unknown>;

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (name: string) => ({ 'application/json': { schema: ref(name) } });

function errors(...statuses: number[]): Record<string, unknown> {
  const text: Record<number, string> = {
    400: 'Malformed JSON, wrong types or unknown fields',
    401: 'Missing or wrong bearer token',
    403: 'Path outside the roots, or a forbidden origin/host',
    404: 'Not found',
    408: 'The body did not arrive within http.bodyTimeoutMs (connection closed)',
    409: 'since= is ahead of the last event id (details.lastId says where to resume)',
    413: 'Body, image or pixel count above the limits (refused from Content-Length where it says so)',
    415: 'Unsupported content type or image format',
    422: 'Empty or corrupt image',
    429: 'This client address already has http.maxRequestsPerClient requests in progress (see Retry-After)',
    503: 'Queue full, shutting down or not ready (see Retry-After), or the database is unavailable',
    504: 'Scoring took longer than queue.timeoutMs, or was cancelled at queue.jobTimeoutMs (AGQ_ERR_SCORE_CANCELLED)',
  };
  return Object.fromEntries(statuses.map((status) => [String(status), { description: text[status] ?? 'Error', content: json('Error') }]));
}

function queryParameters(schema: z.ZodObject): unknown[] {
  const properties = (jsonSchema(schema, 'input').properties ?? {}) as Record<string, JsonSchema>;
  return Object.entries(properties).map(([name, property]) => ({ name, in: 'query', required: false, schema: property }));
}

let cached: JsonSchema | null = null;

/** The OpenAPI 3.1 document of this server (3.1 uses JSON Schema 2020-12, which zod emits). */
export function openApiDocument(version: string): JsonSchema {
  cached ??= build();
  return { ...cached, info: { ...(cached.info as JsonSchema), version } };
}

function build(): JsonSchema {
  const imageErrors = errors(400, 401, 403, 408, 413, 415, 422, 429, 503, 504);
  // Raw frames: uncompressed 8-bit pixels as a UI holds them (no PNG encode in the client, no decode here).
  const rawFrameFields = {
    width: { type: 'integer', minimum: 1, description: 'raw frames: pixels per row (every frame of the request has this size)' },
    height: { type: 'integer', minimum: 1, description: 'raw frames: rows' },
    channels: { type: 'integer', enum: [1, 3, 4], description: 'raw frames: 1 grey, 3 RGB, 4 RGBA (alpha is flattened onto white)' },
    text: {
      type: 'string',
      contentMediaType: 'application/json',
      description: 'raw frames: the text metadata a PNG would carry, as a JSON object (e.g. {"prompt": "<ComfyUI API graph>"} or {"parameters": "<A1111 infotext>"}); the prompt is recovered from it when none is given',
    },
  };
  const pixelsFile = {
    type: 'string',
    contentMediaType: 'application/octet-stream',
    description: 'a raw frame: width × height × channels bytes, row-major, channels interleaved; checked against limits.maxImageBytes and limits.maxImagePixels',
  };
  const multipartScore = {
    type: 'object',
    description: 'one file: an encoded image in `image`, or a raw frame in `pixels` with width, height, channels',
    properties: {
      image: { type: 'string', contentMediaType: 'application/octet-stream' },
      pixels: pixelsFile,
      ...rawFrameFields,
      ...((jsonSchema(scoreMetadataSchema, 'input').properties as JsonSchema) ?? {}),
    },
  };
  const multipartRank = {
    type: 'object',
    description:
      'encoded images in `image`, or raw frames of one size in `pixels` with width, height, channels. Raw frames with a file name start scoring as soon as each has arrived, when the fields before the first frame are complete and valid: send prompt, negativePrompt, text, width, height and channels before the frames (one arriving after frames scored with another value is refused with AGQ_ERR_INVALID_INPUT); topK, keepAtLeast, source and the ids may come anywhere. A refused request stores none of its frames.',
    properties: {
      image: { type: 'array', items: { type: 'string', contentMediaType: 'application/octet-stream' } },
      pixels: { type: 'array', items: pixelsFile },
      ...rawFrameFields,
      prompt: { type: 'string' },
      negativePrompt: { type: 'string' },
      source: { type: 'string' },
      promptId: { type: 'string', maxLength: 200, description: 'the ComfyUI prompt id of the whole batch, stored with each generation (/v1/generations?promptId=)' },
      node: { type: 'string', maxLength: 200, description: 'the ComfyUI node id that sent the batch' },
      topK: { type: 'integer' },
      keepAtLeast: { type: 'integer' },
    },
  };
  return {
    openapi: '3.1.0',
    info: { title: 'agiqa scoring server', version: '0' },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        ScoreJsonRequest: jsonSchema(scoreJsonRequestSchema, 'input'),
        RankJsonRequest: jsonSchema(rankJsonRequestSchema, 'input'),
        ScoreResponse: jsonSchema(scoreResponseSchema, 'output'),
        RankResponse: jsonSchema(rankResponseSchema, 'output'),
        Generation: jsonSchema(generationSchema, 'output'),
        GenerationsResponse: jsonSchema(generationsResponseSchema, 'output'),
        PacksResponse: jsonSchema(packsResponseSchema, 'output'),
        HealthResponse: jsonSchema(healthResponseSchema, 'output'),
        EventMessage: jsonSchema(eventMessageSchema, 'output'),
        Error: jsonSchema(errorResponseSchema, 'output'),
        ComfyPromptRanking: jsonSchema(promptRankingSchema, 'output'),
        Settings: jsonSchema(settingsSchema, 'output'),
        SettingsInput: jsonSchema(settingsSchema, 'input'),
        FeedResponse: jsonSchema(feedResponseSchema, 'output'),
        PromptView: jsonSchema(promptViewSchema, 'output'),
        ComfyVerdictsRequest: jsonSchema(comfyVerdictsRequestSchema, 'input'),
        ComfyVerdictsResponse: jsonSchema(comfyVerdictsResponseSchema, 'output'),
        GenerationDetections: jsonSchema(generationDetectionsSchema, 'output'),
      },
    },
    security: [{ bearer: [] }, {}],
    paths: {
      '/v1/score': {
        post: {
          summary: 'Score one image (multipart `image` or a raw frame in `pixels`, raw image/* bytes with metadata in the query, or JSON with base64 `image` or a rooted `path`)',
          requestBody: {
            required: true,
            content: {
              'application/json': { schema: ref('ScoreJsonRequest') },
              'multipart/form-data': { schema: multipartScore },
              'image/*': { schema: { type: 'string', contentMediaType: 'image/*' } },
            },
          },
          responses: { '200': { description: 'The score, stored before this answer', content: json('ScoreResponse') }, ...imageErrors },
        },
      },
      '/v1/rank': {
        post: {
          summary: 'Score a batch sharing one prompt as a batch; order, top-k and the indices the policy accepts',
          requestBody: {
            required: true,
            content: {
              'application/json': { schema: ref('RankJsonRequest') },
              'multipart/form-data': { schema: multipartRank },
            },
          },
          responses: { '200': { description: 'Scores and verdicts', content: json('RankResponse') }, ...imageErrors },
        },
      },
      '/v1/generations': {
        get: {
          summary: 'History of scored generations, newest first',
          parameters: queryParameters(generationsQuerySchema),
          responses: { '200': { description: 'Generations', content: json('GenerationsResponse') }, ...errors(400, 401, 503) },
        },
      },
      '/v1/generations/{id}': {
        get: {
          summary: 'One generation with its scores and verdicts',
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'integer', minimum: 1 } }],
          responses: { '200': { description: 'The generation', content: json('Generation') }, ...errors(400, 401, 404, 503) },
        },
      },
      '/v1/generations/{id}/file': {
        put: {
          summary: 'Link the file a client saved a scored image as (e.g. ComfyUI\'s Save image with score) to its generation',
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'integer', minimum: 1 } }],
          requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(generationFileSchema, 'input') } } },
          responses: { '200': { description: 'The generation with external.filename set', content: json('Generation') }, ...errors(400, 401, 404, 415, 503) },
        },
      },
      '/v1/generations/{id}/detections': {
        get: {
          summary: "The object boxes behind generation {id}'s latest score (COCO class, confidence, box in the image's pixels), most confident first",
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'integer', minimum: 1 } }],
          responses: { '200': { description: 'The boxes', content: json('GenerationDetections') }, ...errors(400, 401, 404, 503) },
        },
      },
      '/v1/comfyui/prompts/{promptId}/ranking': {
        get: {
          summary: "A ComfyUI prompt's scored outputs per node, best first, and the top-k (from the ComfyUI bridge)",
          parameters: [
            { name: 'promptId', in: 'path', required: true, schema: { type: 'string' } },
            { name: 'k', in: 'query', required: false, schema: { type: 'integer', minimum: 1 }, description: 'top-k size (default: policy.topK, else every accepted output)' },
          ],
          responses: { '200': { description: 'The ranking', content: json('ComfyPromptRanking') }, ...errors(400, 401, 404, 503) },
        },
      },
      '/v1/settings': {
        get: { summary: 'The live settings: policy (thresholds per aspect, regeneration budget, top-k) and ComfyUI targets (quarantine, regeneration)', responses: { '200': { description: 'Settings', content: json('Settings') }, ...errors(401, 403) } },
        put: {
          summary: 'Replace the settings: validated like the config file, saved under AGIQA_HOME, applied at once (bridges restart with them)',
          requestBody: { required: true, content: json('SettingsInput') },
          responses: { '200': { description: 'The settings now in force', content: json('Settings') }, ...errors(400, 401, 403, 413, 415), '500': { description: 'AGQ_ERR_SETTINGS_WRITE: could not be saved (nothing changed)', content: json('Error') } },
        },
      },
      '/v1/feed': {
        get: {
          summary: 'Scored generations for the dashboard: latest score, verdict, aspects, findings, lineage; filtered, sorted and paged',
          parameters: queryParameters(feedQuerySchema as unknown as z.ZodObject),
          responses: { '200': { description: 'One page', content: json('FeedResponse') }, ...errors(400, 401, 503) },
        },
      },
      '/v1/prompts/{id}': {
        get: {
          summary: "Every attempt at generation {id}'s prompt (same normalised text, and its regeneration lineage): best, recurring findings, changes between attempts",
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'integer', minimum: 1 } }],
          responses: { '200': { description: 'The prompt view', content: json('PromptView') }, ...errors(400, 401, 404, 503) },
        },
      },
      '/v1/thumbnails/{sha256}': {
        get: {
          summary: 'A small WebP of a scored image (made by the server when the image arrived; 404 when none was kept)',
          parameters: [{ name: 'sha256', in: 'path', required: true, schema: { type: 'string', pattern: '^[0-9a-f]{64}$' } }],
          responses: { '200': { description: 'WebP', content: { 'image/webp': { schema: { type: 'string', contentMediaType: 'image/webp' } } } }, ...errors(400, 401, 404) },
        },
      },
      '/v1/comfyui/verdicts': {
        post: {
          summary: 'The stored verdicts of ComfyUI files (filename, subfolder, type) in one request, in order; null for a file never scored',
          requestBody: { required: true, content: json('ComfyVerdictsRequest') },
          responses: { '200': { description: 'Verdicts', content: json('ComfyVerdictsResponse') }, ...errors(400, 401, 403, 413, 415, 503) },
        },
      },
      '/v1/packs': { get: { summary: 'The active pack and the installed ones', responses: { '200': { description: 'Packs', content: json('PacksResponse') }, ...errors(401) } } },
      '/v1/health': {
        get: {
          summary: 'Readiness: the pack is loaded and the database writable (details only with the token when one is set)',
          security: [{}],
          responses: { '200': { description: 'Ready', content: json('HealthResponse') }, '503': { description: 'Starting or unhealthy', content: json('HealthResponse') } },
        },
      },
      '/metrics': { get: { summary: 'Prometheus metrics', responses: { '200': { description: 'Text exposition format', content: { 'text/plain': { schema: { type: 'string' } } } }, ...errors(401) } } },
      '/v1/openapi.json': { get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3.1', content: { 'application/json': { schema: { type: 'object' } } } } } } },
      '/v1/events': {
        get: {
          summary: 'WebSocket stream of stored events (EventMessage); `?since=<id>` replays what followed that id first, then a {"type":"stream.ready"} message, then live events',
          parameters: [
            { name: 'since', in: 'query', required: false, schema: { type: 'integer', minimum: 0 } },
            { name: 'token', in: 'query', required: false, schema: { type: 'string' }, description: 'for clients that cannot send Authorization' },
          ],
          responses: { '101': { description: 'Switching to WebSocket; messages are EventMessage', content: json('EventMessage') }, ...errors(400, 401, 403, 409) },
        },
      },
    },
  };
}
