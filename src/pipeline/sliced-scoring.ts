// Batches handed to the scorer in slices no larger than the admission capacity, so a batch larger
// than the capacity never overflows the worker queue.
import type { ScoreRequest, Scorer, ScoreResult } from '../scoring/index.js';

/** Scores a batch slice by slice (each slice one `scoreBatch`); throws the first failure. */
export async function scoreInSlices(scorer: Scorer, requests: ScoreRequest[], sliceSize: number): Promise<ScoreResult[]> {
  const results: ScoreResult[] = [];
  for (let start = 0; start < requests.length; start += sliceSize) {
    results.push(...(await scorer.scoreBatch(requests.slice(start, start + sliceSize))));
  }
  return results;
}

/** Scores each image on its own (one failure stays its own), slice by slice. */
export async function scoreSettled(scorer: Scorer, requests: ScoreRequest[], sliceSize: number): Promise<PromiseSettledResult<ScoreResult>[]> {
  const results: PromiseSettledResult<ScoreResult>[] = [];
  for (let start = 0; start < requests.length; start += sliceSize) {
    results.push(...(await Promise.allSettled(requests.slice(start, start + sliceSize).map((request) => scorer.score(request)))));
  }
  return results;
}
