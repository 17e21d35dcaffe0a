// A small JSON body for the dashboard's routes (settings, verdict lookups): read up to a cap, parsed,
// with the server's own error codes; the image routes have their own streaming reader.
import type { Request } from 'express';
import { agiqaError } from '../../errors/index.js';

/** Throws AGQ_ERR_SERVER_UNSUPPORTED_MEDIA_TYPE, _BODY_TOO_LARGE, _MALFORMED_JSON. */
export async function readJsonBody(request: Request, maxBytes: number): Promise<unknown> {
  const contentType = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (contentType !== 'application/json') throw agiqaError('AGQ_ERR_SERVER_UNSUPPORTED_MEDIA_TYPE', { contentType, accepted: ['application/json'] });
  const declared = Number(request.headers['content-length'] ?? NaN);
  if (declared > maxBytes) throw agiqaError('AGQ_ERR_SERVER_BODY_TOO_LARGE', { maxBytes });
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw agiqaError('AGQ_ERR_SERVER_BODY_TOO_LARGE', { maxBytes });
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (error) {
    throw agiqaError('AGQ_ERR_SERVER_MALFORMED_JSON', { detail: (error as Error).message }, { cause: error });
  }
}
