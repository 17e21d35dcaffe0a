// Reads the images of a score or rank request in any of the accepted forms — multipart upload (encoded
// files, or raw pixel frames with their layout), raw image/* bytes, JSON with base64 or a rooted file
// path — under the body, image and pixel caps, and validates the accompanying fields (unknown ones are
// refused, every problem reported at once).
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { agiqaError, zodIssues } from '../errors/index.js';
import { checkRawLayout, DEFAULT_IMAGE_LIMITS, rawPixelsSha256 } from '../image/index.js';
import { readRawLayout, type RawFields } from './raw-fields.js';
import type { PipelineImage } from '../pipeline/index.js';
import type { ExternalIds } from '../store/index.js';
import { readMultipart, type MultipartPart } from './multipart-body.js';
import { invalidInput, readBody, readJson, type InputLimits } from './request-body.js';
import { readRootedFile, resolveInsideRoots } from './roots.js';
import { MAX_RANK_IMAGES, rankJsonRequestSchema, scoreJsonRequestSchema, scoreMetadataSchema, type ScoreMetadata } from './schemas.js';

/** Room for the fields beside one image in a JSON or multipart score request (prompt text, ids). */
const SCORE_FIELDS_SLACK = 4 * 1024 * 1024;

/**
 * Refuses, from the Content-Length header alone and before any byte of the body is read, a score
 * request that cannot fit: a raw image over maxImageBytes (AGQ_ERR_IMAGE_TOO_LARGE), a JSON or
 * multipart score body over one base64 image plus its fields, or any body over maxBodyBytes
 * (AGQ_ERR_SERVER_BODY_TOO_LARGE).
 */
export function refuseDeclaredBody(request: IncomingMessage, route: 'score' | 'rank', limits: InputLimits): void {
  const declared = Number(request.headers['content-length'] ?? NaN);
  if (!Number.isFinite(declared)) return;
  if (route === 'score' && isRawImage(mediaType(request))) {
    if (declared > limits.maxImageBytes) throw agiqaError('AGQ_ERR_IMAGE_TOO_LARGE', { file: 'upload', bytes: declared, maxBytes: limits.maxImageBytes });
    return;
  }
  const maxBytes = route === 'score' ? Math.min(limits.maxBodyBytes, Math.ceil(limits.maxImageBytes / 3) * 4 + SCORE_FIELDS_SLACK) : limits.maxBodyBytes;
  if (declared > maxBytes) throw agiqaError('AGQ_ERR_SERVER_BODY_TOO_LARGE', { maxBytes });
}

export interface InputContext {
  roots: string[];
  limits: InputLimits;
}

/** An image as the pipeline takes it (the bytes as received, a Buffer view, never copied). */
export type ImageInput = PipelineImage;

export interface ParsedScore {
  input: ImageInput;
  metadata: ScoreMetadata;
}

export interface ParsedRank {
  inputs: ImageInput[];
  metadata: RankMetadata;
  topK?: number | undefined;
  keepAtLeast?: number | undefined;
}

const ACCEPTED = ['multipart/form-data', 'application/json', 'image/*', 'application/octet-stream'];

function mediaType(request: IncomingMessage): string {
  return (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
}

/** Strict base64 (a data: URL prefix allowed): Buffer.from would silently skip bad characters. */
function decodeBase64(text: string, name: string, maxImageBytes: number, field: string): Uint8Array {
  const payload = text.replace(/^data:[\w.+-]+\/[\w.+-]+;base64,/, '').replace(/\s+/g, '');
  if (payload.length === 0 || payload.length % 4 === 1 || !/^[A-Za-z0-9+/]*={0,2}$/.test(payload)) {
    throw invalidInput('request body', [`${field}: expected base64-encoded image bytes`]);
  }
  const bytes = Math.floor((payload.length * 3) / 4) - (payload.endsWith('==') ? 2 : payload.endsWith('=') ? 1 : 0);
  if (bytes > maxImageBytes) throw agiqaError('AGQ_ERR_IMAGE_TOO_LARGE', { file: name, bytes, maxBytes: maxImageBytes });
  return Buffer.from(payload, 'base64');
}

async function imageFromJson(
  item: { image?: string | undefined; path?: string | undefined; name?: string | undefined; external?: ExternalIds | undefined },
  context: InputContext,
  field: string,
): Promise<ImageInput> {
  if (item.path !== undefined) {
    const real = await resolveInsideRoots(item.path, context.roots);
    const name = item.name ?? item.path;
    return { image: await readRootedFile(real, name, context.limits.maxImageBytes), name, fileRef: real, external: item.external };
  }
  const name = item.name ?? 'upload';
  return { image: decodeBase64(item.image!, name, context.limits.maxImageBytes, field), name, fileRef: item.name ?? null, external: item.external };
}

const TEXT_FIELDS = ['prompt', 'negativePrompt', 'source'] as const;

/** Multipart files: encoded images in `image`, raw pixel frames (with width, height, channels) in `pixels`. */
function filesToInputs(files: MultipartPart[], raw: RawFields | null, limits: InputLimits, issues: string[], early?: ReadonlyMap<MultipartPart, ImageInput>): ImageInput[] {
  const inputs: ImageInput[] = [];
  for (const [index, file] of files.entries()) {
    const name = file.filename || (files.length === 1 ? 'upload' : `upload #${index}`);
    const made = early?.get(file);
    if (made !== undefined) {
      inputs.push(made); // a frame checked and handed to scoring while the body arrived
    } else if (file.field === 'image') {
      if (raw !== null) issues.push('image: width, height and channels describe raw frames; send those in the field "pixels"');
      inputs.push({ image: file.bytes, name, fileRef: file.filename || null, sha256: file.sha256 });
    } else if (file.field === 'pixels') {
      if (raw === null) {
        issues.push('pixels: raw frames need the fields width, height and channels');
        continue;
      }
      inputs.push(rawFrameInput(file, name, raw, limits));
    } else {
      issues.push(`${file.field}: unknown file field (send encoded images as "image", raw frames as "pixels")`);
    }
  }
  return inputs;
}

/** A raw frame checked against its layout and the byte and pixel caps. Throws AGQ_ERR_IMAGE_*. */
function rawFrameInput(file: MultipartPart, name: string, raw: RawFields, limits: InputLimits): ImageInput {
  checkRawLayout(name, raw.layout, file.bytes.length, { maxBytes: limits.maxImageBytes, maxPixels: limits.maxImagePixels ?? DEFAULT_IMAGE_LIMITS.maxPixels });
  return { image: file.bytes, pixels: raw.layout, text: raw.text, name, fileRef: file.filename || null, sha256: rawPixelsSha256(raw.layout, file.sha256) };
}

const INT_FIELDS = ['parentId', 'topK', 'keepAtLeast'] as const;
const EXTERNAL_FIELDS = ['promptId', 'node', 'filename'] as const;

/** Multipart fields or query parameters (all strings) → a candidate object for the zod schemas. */
function fieldsToObject(fields: Map<string, string>, allowed: Set<string>, where: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const external: Record<string, string> = {};
  const issues: string[] = [];
  for (const [name, value] of fields) {
    if (!allowed.has(name)) issues.push(`${name}: unknown field (accepted: ${[...allowed].join(', ')})`);
    else if ((INT_FIELDS as readonly string[]).includes(name)) {
      if (/^\d+$/.test(value)) out[name] = Number(value);
      else issues.push(`${name}: expected a whole number, received "${value}"`);
    } else if ((EXTERNAL_FIELDS as readonly string[]).includes(name)) external[name] = value;
    else out[name] = value;
  }
  if (issues.length > 0) throw invalidInput(where, issues);
  if (Object.keys(external).length > 0) out.external = external;
  return out;
}

function parseMetadata(candidate: Record<string, unknown>, where: string): ScoreMetadata {
  const parsed = scoreMetadataSchema.safeParse(candidate);
  if (!parsed.success) throw invalidInput(where, zodIssues(parsed.error));
  return parsed.data;
}

function unsupported(request: IncomingMessage) {
  return agiqaError('AGQ_ERR_SERVER_UNSUPPORTED_MEDIA_TYPE', { contentType: request.headers['content-type'] ?? '(none)', accepted: ACCEPTED });
}

function isRawImage(type: string): boolean {
  return type.startsWith('image/') || type === 'application/octet-stream';
}

/** Reads a POST /v1/score request. Throws AGQ_ERR_INVALID_INPUT, _SERVER_* and _IMAGE_* errors. */
export async function readScoreRequest(request: IncomingMessage, query: URLSearchParams, context: InputContext): Promise<ParsedScore> {
  const type = mediaType(request);
  if (type === 'application/json') {
    if ([...query.keys()].length > 0) throw invalidInput('query', ['JSON requests carry their fields in the body, not the query']);
    const parsed = scoreJsonRequestSchema.safeParse(await readJson(request, context.limits.maxBodyBytes, context.limits.bodyTimeoutMs));
    if (!parsed.success) throw invalidInput('request body', zodIssues(parsed.error));
    const { image, path, name, ...metadata } = parsed.data;
    return { input: await imageFromJson({ image, path, name, external: metadata.external }, context, 'image'), metadata };
  }
  if (type === 'multipart/form-data') {
    const { files, fields } = await readMultipart(request, context.limits, 1);
    const raw = readRawLayout(fields);
    const allowed = new Set<string>([...TEXT_FIELDS, 'parentId', ...EXTERNAL_FIELDS]);
    const metadata = parseMetadata(fieldsToObject(fields, allowed, 'multipart body'), 'multipart body');
    const issues: string[] = [];
    const [input] = filesToInputs(files, raw, context.limits, issues);
    if (files.length === 0) issues.push('image: expected one file in the field "image" (or a raw frame in "pixels")');
    if (issues.length > 0 || input === undefined) throw invalidInput('multipart body', issues);
    return { input: { ...input, external: metadata.external }, metadata };
  }
  if (isRawImage(type)) {
    const fields = new Map(query.entries());
    const name = fields.get('name') ?? 'upload';
    fields.delete('name');
    const metadata = parseMetadata(fieldsToObject(fields, new Set<string>([...TEXT_FIELDS, 'parentId', ...EXTERNAL_FIELDS]), 'query'), 'query');
    const hash = createHash('sha256');
    const body = await readBody(request, context.limits.maxBodyBytes, hash, context.limits.bodyTimeoutMs);
    if (body.length > context.limits.maxImageBytes) throw agiqaError('AGQ_ERR_IMAGE_TOO_LARGE', { file: name, bytes: body.length, maxBytes: context.limits.maxImageBytes });
    return { input: { image: body, name, fileRef: query.get('name'), external: metadata.external, sha256: hash.digest('hex') }, metadata };
  }
  throw unsupported(request);
}

/** The fields of a multipart rank request, validated (takes the raw-frame fields out of `fields`). */
function rankFields(fields: Map<string, string>): { raw: RawFields | null; metadata: RankMetadata; topK: number | undefined; keepAtLeast: number | undefined } {
  const raw = readRawLayout(fields);
  // The batch's ComfyUI prompt and node; a file name belongs to one image, so it is no batch field.
  const allowed = new Set<string>([...TEXT_FIELDS, ...INT_FIELDS, 'promptId', 'node']);
  const { topK, keepAtLeast, ...rest } = fieldsToObject(fields, allowed, 'multipart body');
  return { raw, metadata: parseMetadata(rest, 'multipart body'), topK: topK as number | undefined, keepAtLeast: keepAtLeast as number | undefined };
}

/** The fields that change what the scorer is asked: a frame scored early must have seen their final values. */
const SCORING_FIELDS = ['prompt', 'negativePrompt', 'text', 'width', 'height', 'channels'] as const;

/**
 * Raw frames of a multipart rank request handed to scoring one by one as they arrive, once the fields
 * before the first frame are complete and valid. A frame that fails its checks here is left for the
 * end of the body, where it is refused as it always was.
 */
class FramesAsTheyCome {
  readonly made = new Map<MultipartPart, ImageInput>();
  private sink: FrameSink | null | undefined;
  private raw: RawFields | null = null;
  private seen: Map<string, string> | null = null;

  constructor(
    private readonly limits: InputLimits,
    private readonly startScoring: (metadata: RankMetadata) => FrameSink | null,
  ) {}

  readonly onFile = (part: MultipartPart, fieldsSoFar: ReadonlyMap<string, string>): void => {
    if (part.field !== 'pixels' || part.filename === '') return;
    if (this.sink === undefined) {
      try {
        const fields = new Map(fieldsSoFar);
        const { raw, metadata } = rankFields(fields);
        this.raw = raw;
        this.sink = raw === null ? null : this.startScoring(metadata);
        this.seen = new Map(fieldsSoFar);
      } catch {
        this.sink = null; // refused at the end with every problem listed, as before
      }
    }
    if (this.sink === null || this.raw === null) return;
    let input: ImageInput;
    try {
      input = rawFrameInput(part, part.filename, this.raw, this.limits);
    } catch {
      return;
    }
    this.made.set(part, input);
    this.sink.add(input);
  };

  /** Throws AGQ_ERR_INVALID_INPUT when a field that steers scoring came (or changed) after frames were scored with it. */
  assertSameFields(fields: ReadonlyMap<string, string>): void {
    if (this.seen === null || this.made.size === 0) return;
    const late = SCORING_FIELDS.filter((name) => this.seen!.get(name) !== fields.get(name));
    if (late.length > 0) {
      throw invalidInput('multipart body', late.map((name) => `${name}: came after the first frame; send ${SCORING_FIELDS.join(', ')} before the frames "pixels"`));
    }
  }
}

/** Where frames go as they arrive (the pipeline's early scores). */
export interface FrameSink {
  add(input: ImageInput): void;
}

/** A batch's fields: its external ids are the ones the whole batch shares (prompt and node). */
export type RankMetadata = ScoreMetadata;

/**
 * Reads a POST /v1/rank request (JSON or multipart with several `image` files or raw frames). With
 * `startScoring`, raw frames start scoring as they arrive (see FramesAsTheyCome); the caller then owns
 * the sink it returned, including when this throws.
 */
export async function readRankRequest(request: IncomingMessage, context: InputContext, startScoring?: (metadata: RankMetadata) => FrameSink | null): Promise<ParsedRank> {
  const type = mediaType(request);
  if (type === 'application/json') {
    const parsed = rankJsonRequestSchema.safeParse(await readJson(request, context.limits.maxBodyBytes, context.limits.bodyTimeoutMs));
    if (!parsed.success) throw invalidInput('request body', zodIssues(parsed.error));
    const { images, topK, keepAtLeast, ...metadata } = parsed.data;
    const inputs: ImageInput[] = [];
    for (const [index, item] of images.entries()) inputs.push(await imageFromJson(item, context, `images.${index}.image`));
    return { inputs, metadata, topK, keepAtLeast };
  }
  if (type === 'multipart/form-data') {
    const frames = startScoring === undefined ? undefined : new FramesAsTheyCome(context.limits, startScoring);
    const { files, fields } = await readMultipart(request, context.limits, MAX_RANK_IMAGES, frames?.onFile);
    frames?.assertSameFields(fields);
    const { raw, metadata, topK, keepAtLeast } = rankFields(fields);
    const issues: string[] = [];
    if (topK === 0) issues.push('topK: expected a positive whole number');
    const inputs = filesToInputs(files, raw, context.limits, issues, frames?.made);
    if (files.length === 0) issues.push('image: expected at least one file in the field "image" (or raw frames in "pixels")');
    if (issues.length > 0) throw invalidInput('multipart body', issues);
    return { inputs, metadata, topK, keepAtLeast };
  }
  throw unsupported(request);
}
