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

/**
 * The fresh scores of a batch, one per entry of `early` (a score started while the batch arrived, or null):
 * those are awaited, the others (`requests`, in the same order) are scored in slices of `room`, the
 * capacity the early ones left — or, when they took it all, after them, so the scorer never holds more
 * than the capacity. `partial`: each failure stays its own; otherwise the first failure rejects.
 */
export async function scoreFresh(
  scorer: Scorer,
  parts: { early: (Promise<ScoreResult> | null)[]; requests: ScoreRequest[]; room: number; capacity: number; partial: boolean },
): Promise<PromiseSettledResult<ScoreResult>[]> {
  const { early, requests, room, capacity, partial } = parts;
  const fulfilled = (values: ScoreResult[]) => values.map((value) => ({ status: 'fulfilled' as const, value }));
  const roomLeft = room > 0 ? Promise.resolve() : Promise.allSettled(early);
  const slice = room > 0 ? room : capacity;
  const scoredLater = roomLeft.then(() => (partial ? scoreSettled(scorer, requests, slice) : scoreInSlices(scorer, requests, slice).then(fulfilled)));
  const started = early.filter((result): result is Promise<ScoreResult> => result !== null);
  const scoredEarly = partial ? Promise.allSettled(started) : Promise.all(started).then(fulfilled);
  const [later, fromEarly] = await Promise.all([scoredLater, scoredEarly]);
  let nextLater = 0;
  let nextEarly = 0;
  return early.map((result) => (result === null ? later[nextLater++]! : fromEarly[nextEarly++]!));
}
