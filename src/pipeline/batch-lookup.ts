// The first step of every batch: each image's dedupe key and size, its stored score if it has one, and
// which images still need scoring (a repeat inside the batch is scored once, as its first occurrence).
import type { ImageLimits } from '../image/index.js';
import type { Scorer } from '../scoring/index.js';
import type { Store, StoredScore } from '../store/index.js';
import type { EarlyScore } from './early-scores.js';
import { imageSha256 } from './hash.js';
import { savedByNode } from './saved-by-node.js';
import type { PipelineImage } from './types.js';

export interface BatchLookup {
  hashes: string[];
  /** Bytes of each image, read before any buffer moved to a worker. */
  sizes: number[];
  stored: (StoredScore | null)[];
  /** Indices to score: not failed, not stored, first of their hash. */
  toScore: number[];
  firstIndexOfHash: Map<string, number>;
}

export interface LookupPlace {
  store: Store;
  pack: Scorer['pack'];
  limits: ImageLimits;
  prompt: string | null;
}

/** The stored score of one image under this prompt and pack: a file the node pack saved, or the same pixels scored before. */
export async function storedScoreOf(where: LookupPlace, image: PipelineImage, hash: string): Promise<StoredScore | null> {
  return (await savedByNode(where.store, image, where.pack, where.limits)) ?? (await where.store.findScore(hash, where.prompt, where.pack));
}

/** Looks a batch up; images in `failed` are never looked up or scored, images started `early` were looked up then. */
export async function lookUpBatch(
  images: PipelineImage[],
  early: (EarlyScore | null)[],
  failed: ReadonlyMap<number, unknown>,
  where: LookupPlace,
): Promise<BatchLookup> {
  const hashes = await Promise.all(images.map((image, index) => early[index]?.hash ?? imageSha256(image)));
  const sizes = images.map((image, index) => early[index]?.bytes ?? image.image.length);
  const stored: (StoredScore | null)[] = [];
  for (const [index, hash] of hashes.entries()) {
    if (early[index] !== null) {
      stored.push(null); // looked up before it started
      continue;
    }
    // A failed image is not read (it may be too large to decode), only looked up by its hash.
    stored.push(failed.has(index) ? await where.store.findScore(hash, where.prompt, where.pack) : await storedScoreOf(where, images[index]!, hash));
  }
  const firstIndexOfHash = new Map<string, number>();
  const toScore: number[] = [];
  hashes.forEach((hash, index) => {
    if (failed.has(index) || stored[index] !== null || firstIndexOfHash.has(hash)) return;
    firstIndexOfHash.set(hash, index);
    toScore.push(index);
  });
  return { hashes, sizes, stored, toScore, firstIndexOfHash };
}
