// Worker-thread entry of the scorer pool: builds the pack's scorer once, then scores each request and,
// when asked, makes the dashboard's thumbnail from the pixels the scorer decoded (no second decode).
import { workerData } from 'node:worker_threads';
import { configureDecoderForWorkers, DEFAULT_IMAGE_LIMITS, makePreview, thumbnailOfPixels, type DecodedImage, type ImageLimits } from '../image/index.js';
import type { LoadedPack } from '../model/packs.js';
import { serveWorkerJobs } from '../model/worker-entry.js';
import { generationParams } from '../prompts/index.js';
import { takeDecoded } from './decode-request.js';
import { createPackScorer } from './pack-scorer.js';
import type { ScoreResult } from './score-result.js';
import type { MadeThumbnail, ScoreRequest } from './scorer.js';

/** A request as it crosses to the worker: `thumbnail.made` (a function) stays behind. */
export type WorkerScoreRequest = Omit<ScoreRequest, 'thumbnail'> & { thumbnail?: { size: number } | undefined };
export type ScoreJob = { kind: 'one'; request: WorkerScoreRequest } | { kind: 'batch'; requests: WorkerScoreRequest[] };
export interface ScoredInWorker {
  result: ScoreResult;
  thumbnail: MadeThumbnail | null;
}

export interface ScoreWorkerData {
  pack: LoadedPack;
  threads: number;
  limits: ImageLimits | undefined;
}

const data = workerData as ScoreWorkerData;
configureDecoderForWorkers(data.threads);

/**
 * The thumbnail from the scorer's pixels, after scoring (which never writes them). A lite pack's window
 * of an image above the working budget is not the whole picture: that rare one is decoded again, here.
 */
async function thumbnailOf(request: WorkerScoreRequest, decoded: DecodedImage | undefined): Promise<MadeThumbnail | null> {
  const size = request.thumbnail?.size;
  if (size === undefined || decoded === undefined) return null;
  try {
    const webp =
      decoded.reduced === 'crop'
        ? (await makePreview(request.image, { size, maxPixels: (data.limits ?? DEFAULT_IMAGE_LIMITS).maxPixels, name: request.name })).thumbnail
        : await thumbnailOfPixels(decoded.rgb, { width: decoded.width, height: decoded.height, channels: 3 }, size);
    // A copy of exactly its bytes: the message carries it to the main thread, not sharp's buffer.
    return { webp: new Uint8Array(webp), params: generationParams({ ...decoded.metadata.text, ...request.text }) };
  } catch {
    return null; // the score stands; the dashboard shows a placeholder
  }
}

await serveWorkerJobs<ScoreJob, ScoredInWorker | ScoredInWorker[]>(async () => {
  const scorer = await createPackScorer(data.pack, { threads: data.threads, limits: data.limits });
  const withThumbnails = async (requests: WorkerScoreRequest[], results: ScoreResult[]) =>
    Promise.all(requests.map(async (request, index) => ({ result: results[index]!, thumbnail: await thumbnailOf(request, takeDecoded(request)) })));
  return async (job) => {
    if (job.kind === 'one') return (await withThumbnails([job.request], [await scorer.score(job.request)]))[0]!;
    if (scorer.scoreBatch) return withThumbnails(job.requests, await scorer.scoreBatch(job.requests));
    const results: ScoreResult[] = [];
    for (const request of job.requests) results.push(await scorer.score(request));
    return withThumbnails(job.requests, results);
  };
});
