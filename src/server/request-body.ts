// Reading a request body under the caps: the byte limit (declared or counted), the time the body may
// take to arrive, and the client leaving mid-body, each refused with its own code.
import type { Hash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { agiqaError, isAgiqaError } from '../errors/index.js';
import { imageBuffers } from '../scoring/index.js';

export interface InputLimits {
  maxBodyBytes: number;
  maxImageBytes: number;
  /** Largest width × height of a raw pixel frame (encoded images are checked on their header later). */
  maxImagePixels?: number | undefined;
  /** Time the whole body may take to arrive once reading starts (AGQ_ERR_SERVER_BODY_TIMEOUT after). */
  bodyTimeoutMs?: number | undefined;
}

/** The refusal of a request's fields or structure (AGQ_ERR_INVALID_INPUT), every issue listed. */
export function invalidInput(where: string, issues: string[]) {
  return agiqaError('AGQ_ERR_INVALID_INPUT', { where, issues }, { details: { issues } });
}

/**
 * Settles with AGQ_ERR_SERVER_BODY_TIMEOUT after `timeoutMs` and with AGQ_ERR_SERVER_REQUEST_ABORTED
 * when the client goes away before the body is complete; `received` reports the bytes so far.
 */
export function bodyWatch(request: IncomingMessage, timeoutMs: number | undefined, received: () => number): { failed: Promise<never>; stop: () => void } {
  let timer: NodeJS.Timeout | undefined;
  let onClose: () => void = () => {};
  const failed = new Promise<never>((_, reject) => {
    if (timeoutMs !== undefined) timer = setTimeout(() => reject(agiqaError('AGQ_ERR_SERVER_BODY_TIMEOUT', { timeoutMs, received: received() })), timeoutMs);
    onClose = () => {
      if (!request.complete) reject(agiqaError('AGQ_ERR_SERVER_REQUEST_ABORTED', { received: received() }));
    };
    request.once('close', onClose);
  });
  failed.catch(() => undefined); // observed through the race below; never unhandled
  return {
    failed,
    stop: () => {
      clearTimeout(timer);
      request.off('close', onClose);
    },
  };
}

/**
 * Reads the whole body, refusing it as soon as it passes `maxBytes` (by Content-Length or by count).
 * The body gets an ArrayBuffer of its own, so it can move to a scoring worker whole. `hash`, when given,
 * is fed each chunk as it arrives: hashing overlaps the upload instead of following it.
 */
export async function readBody(request: IncomingMessage, maxBytes: number, hash?: Hash, timeoutMs?: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length'] ?? NaN);
  if (Number.isFinite(declared) && declared > maxBytes) throw agiqaError('AGQ_ERR_SERVER_BODY_TOO_LARGE', { maxBytes });
  let received = 0;
  const watch = bodyWatch(request, timeoutMs, () => received);
  const reading = readAll(request, maxBytes, declared, hash, (bytes) => (received += bytes));
  // A reader left waiting for bytes that never come ends with the connection (closed after the 408).
  reading.catch(() => undefined);
  try {
    return await Promise.race([reading, watch.failed]);
  } catch (error) {
    // The stream's own "aborted" error when the client leaves mid-body.
    if (!isAgiqaError(error) && !request.complete) throw agiqaError('AGQ_ERR_SERVER_REQUEST_ABORTED', { received }, { cause: error });
    throw error;
  } finally {
    watch.stop();
  }
}

async function readAll(request: IncomingMessage, maxBytes: number, declared: number, hash: Hash | undefined, count: (bytes: number) => void): Promise<Buffer> {
  if (Number.isInteger(declared) && declared >= 0) {
    // Copied into one buffer of the declared size as it arrives: collecting chunks and concatenating
    // them allocates every image twice, and at megabytes per request the garbage collector's share of
    // the server's CPU grows with every byte allocated. The buffer is a pooled one a worker gave back.
    const body = imageBuffers.take(declared);
    let received = 0;
    for await (const chunk of request) {
      const bytes = chunk as Buffer;
      if (received + bytes.length > declared) throw agiqaError('AGQ_ERR_SERVER_BODY_TOO_LARGE', { maxBytes: declared });
      bytes.copy(body, received);
      hash?.update(bytes);
      received += bytes.length;
      count(bytes.length);
    }
    return received === declared ? body : body.subarray(0, received);
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of request) {
    total += (chunk as Buffer).length;
    count((chunk as Buffer).length);
    if (total > maxBytes) throw agiqaError('AGQ_ERR_SERVER_BODY_TOO_LARGE', { maxBytes });
    hash?.update(chunk as Buffer);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, total);
}

export async function readJson(request: IncomingMessage, maxBytes: number, timeoutMs?: number): Promise<unknown> {
  const body = await readBody(request, maxBytes, undefined, timeoutMs);
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (cause) {
    throw agiqaError('AGQ_ERR_SERVER_MALFORMED_JSON', { detail: cause instanceof Error ? cause.message : String(cause) }, { cause });
  }
}
