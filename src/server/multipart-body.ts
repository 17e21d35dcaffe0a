// Streaming a multipart body: encoded image files and raw pixel frames (read straight into pooled
// buffers when their layout came first), hashed as they arrive, with the file, field and body caps.
// @fastify/busboy rather than busboy: it finds part boundaries with Buffer#indexOf (native), where
// busboy's Boyer-Moore-Horspool loop runs in JavaScript over every megabyte of an image: 1.6–5.3 ms of
// main-thread CPU per 3 MB raw frame depending on the boundary's length, against ~0.2–0.7 ms.
import { Busboy, type BusboyInstance } from '@fastify/busboy';
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { agiqaError } from '../errors/index.js';
import { imageBuffers } from '../scoring/index.js';
import { bodyWatch, invalidInput, type InputLimits } from './request-body.js';

export interface MultipartPart {
  field: string;
  filename: string;
  bytes: Buffer;
  /** Hex sha256 of `bytes`, computed as the file streamed in. */
  sha256: string;
}

/** Streams a multipart body, refusing a file above maxImageBytes or a body above maxBodyBytes. */
export function readMultipart(
  request: IncomingMessage,
  limits: InputLimits,
  maxFiles: number,
  /** Sees each file as soon as it is complete, with the fields that came before it (the body may still be arriving). */
  onFile?: (part: MultipartPart, fieldsSoFar: ReadonlyMap<string, string>) => void,
): Promise<{ files: MultipartPart[]; fields: Map<string, string> }> {
  return new Promise((resolve, reject) => {
    let parser: BusboyInstance;
    try {
      const headers = { ...request.headers, 'content-type': request.headers['content-type'] ?? '' };
      parser = Busboy({ headers, limits: { fileSize: limits.maxImageBytes, files: maxFiles, fields: 32, fieldSize: MAX_FIELD_BYTES } });
    } catch (cause) {
      reject(invalidInput('multipart body', [cause instanceof Error ? cause.message : String(cause)]));
      return;
    }
    const files: MultipartPart[] = [];
    const fields = new Map<string, string>();
    let failed = false;
    let total = 0;
    const fail = (error: Error) => {
      if (failed) return;
      failed = true;
      watch.stop();
      request.unpipe(parser);
      // The rest is not read: the refusal closes the connection (Connection: close), which discards it.
      request.pause();
      reject(error);
    };
    const declared = Number(request.headers['content-length'] ?? NaN);
    if (Number.isFinite(declared) && declared > limits.maxBodyBytes) {
      reject(agiqaError('AGQ_ERR_SERVER_BODY_TOO_LARGE', { maxBytes: limits.maxBodyBytes }));
      return;
    }
    const watch = bodyWatch(request, limits.bodyTimeoutMs, () => total);
    watch.failed.catch(fail);
    request.on('data', (chunk: Buffer) => {
      total += chunk.length;
      if (total > limits.maxBodyBytes) fail(agiqaError('AGQ_ERR_SERVER_BODY_TOO_LARGE', { maxBytes: limits.maxBodyBytes }));
    });
    parser.on('file', (field, stream, filename) => {
      const chunks: Buffer[] = [];
      const hash = createHash('sha256');
      let size = 0;
      // A raw frame whose layout came first has a known size: read straight into a pooled buffer.
      const expected = field === 'pixels' ? rawFrameBytes(fields) : null;
      const direct = expected !== null && expected <= limits.maxImageBytes ? imageBuffers.take(expected) : null;
      let inDirect = 0;
      stream.on('data', (chunk: Buffer) => {
        hash.update(chunk);
        if (direct !== null && chunks.length === 0 && inDirect + chunk.length <= direct.length) inDirect += chunk.copy(direct, inDirect);
        else chunks.push(chunk);
        size += chunk.length;
      });
      stream.on('limit', () => fail(agiqaError('AGQ_ERR_IMAGE_TOO_LARGE', { file: filename || field, bytes: size, maxBytes: limits.maxImageBytes })));
      stream.on('end', () => {
        if (failed) return;
        const bytes = direct !== null && chunks.length === 0 && inDirect === direct.length ? direct : joined(direct?.subarray(0, inDirect) ?? null, chunks, size);
        const part: MultipartPart = { field, filename: filename ?? '', bytes, sha256: hash.digest('hex') };
        files.push(part);
        onFile?.(part, fields);
      });
    });
    parser.on('field', (name, value, _nameTruncated, valueTruncated) => {
      if (valueTruncated) fail(invalidInput('multipart body', [`${name}: the field is too long`]));
      else fields.set(name, value);
    });
    parser.on('filesLimit', () => fail(invalidInput('multipart body', [`at most ${maxFiles} image file(s) per request`])));
    parser.on('fieldsLimit', () => fail(invalidInput('multipart body', ['too many fields'])));
    parser.on('error', (error: unknown) => fail(invalidInput('multipart body', [error instanceof Error ? error.message : String(error)])));
    parser.on('finish', () => {
      watch.stop();
      if (!failed) resolve({ files, fields });
    });
    request.pipe(parser);
  });
}

/** The byte size of one raw frame from the layout fields already read, or null when they are not all there (yet) or not numbers. */
function rawFrameBytes(fields: ReadonlyMap<string, string>): number | null {
  const [width, height, channels] = ['width', 'height', 'channels'].map((name) => Number(fields.get(name)));
  if (![width, height, channels].every((value) => Number.isSafeInteger(value) && value! > 0)) return null;
  return width! * height! * channels!;
}

/** A file's bytes in one pooled buffer: the prefix read directly (if any), then the chunks after it. */
function joined(prefix: Buffer | null, chunks: readonly Buffer[], size: number): Buffer {
  const out = imageBuffers.take(size);
  let at = prefix === null ? 0 : prefix.copy(out, 0);
  for (const chunk of chunks) at += chunk.copy(out, at);
  return out;
}

/** A multipart field's largest size: the `text` field of raw frames may carry a whole ComfyUI graph. */
const MAX_FIELD_BYTES = 2 * 1024 * 1024;
