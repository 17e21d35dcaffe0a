// Worker-thread entry of the scorer pool: builds the pack's scorer once, then scores each request.
import { workerData } from 'node:worker_threads';
import { configureDecoderForWorkers, type ImageLimits } from '../image/index.js';
import type { LoadedPack } from '../model/packs.js';
import { serveWorkerJobs } from '../model/worker-entry.js';
import { createPackScorer } from './pack-scorer.js';
import type { ScoreResult } from './score-result.js';
import type { ScoreRequest } from './scorer.js';

export type ScoreJob = { kind: 'one'; request: ScoreRequest } | { kind: 'batch'; requests: ScoreRequest[] };

export interface ScoreWorkerData {
  pack: LoadedPack;
  threads: number;
  limits: ImageLimits | undefined;
}

const data = workerData as ScoreWorkerData;
configureDecoderForWorkers(data.threads);

await serveWorkerJobs<ScoreJob, ScoreResult | ScoreResult[]>(async () => {
  const scorer = await createPackScorer(data.pack, { threads: data.threads, limits: data.limits });
  return async (job) => {
    if (job.kind === 'one') return scorer.score(job.request);
    if (scorer.scoreBatch) return scorer.scoreBatch(job.requests);
    const results: ScoreResult[] = [];
    for (const request of job.requests) results.push(await scorer.score(request));
    return results;
  };
});
