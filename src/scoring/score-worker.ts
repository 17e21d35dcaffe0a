// Worker-thread entry of the scorer pool: builds the pack's scorer once, then scores each request and,
// when asked, makes the dashboard's thumbnail from the pixels the scorer decoded (no second decode),
// after the answer has gone back and the worker has no other image: a client never waits for it.
import { workerData } from 'node:worker_threads';
import { configureDecoderForWorkers, DEFAULT_IMAGE_LIMITS, makePreview, thumbnailOfPixels, type DecodedImage, type ImageLimits } from '../image/index.js';
import type { LoadedPack } from '../model/packs.js';
import { AnswerFirst, serveWorkerJobs } from '../model/worker-entry.js';
import { generationParams } from '../prompts/index.js';
import { takeDecoded } from './decode-request.js';
import { createPackScorer } from './pack-scorer.js';
import type { ScoreResult } from './score-result.js';
import type { MadeThumbnail, ScoreRequest } from './scorer.js';
import { warmUp } from './warm-up.js';

/** A request as it crosses to the worker: `thumbnail.made` (a function) stays behind; the ticket names it. */
export type WorkerScoreRequest = Omit<ScoreRequest, 'thumbnail' | 'lateAnswer'> & { thumbnail?: { size: number; ticket: number } | undefined };
export type ScoreJob = { kind: 'one'; request: WorkerScoreRequest } | { kind: 'batch'; requests: WorkerScoreRequest[] };
/** What follows a job's answer: each asked thumbnail (null when none could be made) by its ticket. */
export type WorkerThumbnails = { ticket: number; thumbnail: MadeThumbnail | null }[];

export interface ScoreWorkerData {
  pack: LoadedPack;
  threads: number;
  /** The object detector's onnxruntime threads (detectorThreads: one when several workers run). */
  detectorThreads?: number | undefined;
  limits: ImageLimits | undefined;
  /** Score a throwaway image before saying ready (a server's workers; a one-shot CLI run gains nothing). */
  warmUp?: boolean | undefined;
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

await serveWorkerJobs<ScoreJob, ScoreResult | ScoreResult[]>(async () => {
  const scorer = await createPackScorer(data.pack, { threads: data.threads, detectorThreads: data.detectorThreads, limits: data.limits });
  if (data.warmUp === true) await warmUp(scorer);
  const score = async (job: ScoreJob): Promise<ScoreResult[]> => {
    if (job.kind === 'one') return [await scorer.score(job.request)];
    if (scorer.scoreBatch) return scorer.scoreBatch(job.requests);
    const results: ScoreResult[] = [];
    for (const request of job.requests) results.push(await scorer.score(request));
    return results;
  };
  return async (job) => {
    const results = await score(job);
    const value = job.kind === 'one' ? results[0]! : results;
    const asked = (job.kind === 'one' ? [job.request] : job.requests).flatMap((request) => (request.thumbnail === undefined ? [] : [{ request, ticket: request.thumbnail.ticket, decoded: takeDecoded(request) }]));
    if (asked.length === 0) return value;
    const later = (): Promise<WorkerThumbnails> => Promise.all(asked.map(async ({ request, ticket, decoded }) => ({ ticket, thumbnail: await thumbnailOf(request, decoded) })));
    return new AnswerFirst(value, later);
  };
});
