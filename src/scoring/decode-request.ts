// The one place a scorer turns a request into pixels: an encoded file is decoded, raw pixels are taken
// as they are (with the prompt recovered from the text that travelled beside them).
import { createHash } from 'node:crypto';
import { decodeImage, rawPixelsSha256, rawPixelsToImage, type DecodedImage, type ImageLimits } from '../image/index.js';
import type { ScoreRequest } from './scorer.js';

/** The pixels decoded for each request that asked for a thumbnail, until the scoring worker takes them. */
const decodedFor = new WeakMap<ScoreRequest, DecodedImage>();

/**
 * Throws the image module's AGQ_ERR_IMAGE_* errors. `oversize` says what of a file above the working
 * budget is decoded (see DecodeOptions); raw pixels are already in memory and used whole.
 */
export async function decodeRequest(request: ScoreRequest, limits: ImageLimits | undefined, oversize?: 'crop' | 'shrink'): Promise<DecodedImage> {
  const decoded = await decodeOnce(request, limits, oversize);
  if (request.thumbnail !== undefined) decodedFor.set(request, decoded);
  return decoded;
}

function decodeOnce(request: ScoreRequest, limits: ImageLimits | undefined, oversize?: 'crop' | 'shrink'): Promise<DecodedImage> | DecodedImage {
  if (request.pixels === undefined) return decodeImage(request.image, request.name, limits, { sha256: request.sha256, oversize });
  const sha256 = request.sha256 ?? rawPixelsSha256(request.pixels, createHash('sha256').update(request.image).digest('hex'));
  return rawPixelsToImage({ data: request.image, ...request.pixels }, request.name, sha256, request.text, limits);
}

/** The pixels `decodeRequest` gave a scorer for `request` (once; undefined when it asked for no thumbnail or was never decoded). */
export function takeDecoded(request: ScoreRequest): DecodedImage | undefined {
  const decoded = decodedFor.get(request);
  decodedFor.delete(request);
  return decoded;
}
