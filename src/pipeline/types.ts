// What every entrance hands the pipeline (an image with its ids, what the client said about it) and
// what it gets back, independent of the transport that carried it.
import type { AgiqaError } from '../errors/index.js';
import type { EarlyScores } from './early-scores.js';
import type { Verdict } from '../policy/index.js';
import type { ScoreRequest, Scorer, ScoreResult } from '../scoring/index.js';
import type { ExternalIds } from '../store/index.js';

/** Uncompressed 8-bit pixels, interleaved, row-major: what a UI holds in memory before any PNG. */
export interface RawPixelsLayout {
  width: number;
  height: number;
  /** 1 (grey), 3 (RGB) or 4 (RGBA). */
  channels: 1 | 3 | 4;
}

export interface PipelineImage {
  /** The bytes as received: an encoded image, or raw pixels when `pixels` is set (never copied). */
  image: Uint8Array;
  /** Set when `image` holds raw pixels in this layout instead of an encoded file. */
  pixels?: RawPixelsLayout | undefined;
  /** Text metadata that travelled beside raw pixels (ComfyUI's `prompt` graph, A1111's `parameters`). */
  text?: Record<string, string> | undefined;
  /** For messages: upload name, file path or ComfyUI filename. */
  name: string;
  /** For the history: the upload's file name, the real path read or the ComfyUI /view address. */
  fileRef: string | null;
  /** Hex sha256 of `image` when it was hashed while it arrived, so nobody hashes it again. */
  sha256?: string | undefined;
  external?: ExternalIds | undefined;
}

/** Where the dashboard's thumbnails come from (the server's thumbnail cache). */
export interface ThumbnailSink {
  /**
   * Called for each new image just before the scorer takes its buffer. When `scorerMakes`, returns what
   * to ask the scorer for (undefined: no thumbnail wanted); otherwise copies what it keeps and makes
   * the thumbnail itself, and returns undefined.
   */
  forImage(sha256: string, image: PipelineImage, scorerMakes: boolean): ScoreRequest['thumbnail'];
}

/** What a client may say about an image besides its bytes. */
export interface GenerationMetadata {
  prompt?: string | undefined;
  negativePrompt?: string | undefined;
  /** Who sends it: `api`, `comfyui`, `comfyui-node`, `a1111`, `cli`. */
  source?: string | undefined;
  parentId?: number | null | undefined;
  external?: ExternalIds | undefined;
}

export interface ScoredImage {
  generationId: number;
  /** True when this image + prompt was already scored by this pack version. */
  cached: boolean;
  result: ScoreResult;
  verdict: Verdict;
}

export interface RankedImage extends ScoredImage {
  index: number;
  /** 1 = best of its batch; a batch of one is rank 1. */
  rank: number;
  scoreId: number;
}

/** One image of a batch scored with partial failures allowed (the bridge): a ranked image or its error. */
export type BatchItem = ({ ok: true } & RankedImage) | { ok: false; index: number; error: AgiqaError };

export interface RankOutcome {
  order: number[];
  topK: number[];
  passing: number[];
  items: RankedImage[];
}

/** The counters the pipeline feeds (prom-client counters fit; tests may pass none). */
export interface PipelineMetrics {
  scores: { inc(labels: { verdict: string }): void };
  cacheHits: { inc(): void };
  rejectedBusy: { inc(): void };
}

/** Where the scoring pack is: still loading, ready, or failed to load (the server answers 503 until ready). */
export type ScorerState = { state: 'loading' } | { state: 'ready'; scorer: Scorer } | { state: 'failed'; error: AgiqaError };

/** How a batch is ranked and answered. */
export interface BatchOptions {
  topK?: number | undefined;
  keepAtLeast?: number | undefined;
  /** Wait at most the pipeline's timeout for the answer (requests); a bridge waits for the work itself. */
  deadline?: boolean | undefined;
  /** Images of this batch that started scoring while it arrived (see `earlyScores`). */
  early?: EarlyScores | null | undefined;
}
