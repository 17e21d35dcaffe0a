// The scoring entry point for transports: `createScorer` loads a pack and runs it in worker threads
// (a judge pack in this thread: its model runs in a server).
import { availableParallelism } from 'node:os';
import type { TransferListItem } from 'node:worker_threads';
import type { ImageLimits } from '../image/index.js';
import { DEFAULT_PACK, loadPack } from '../model/packs.js';
import { detectorThreads } from '../model/object-detector.js';
import { imageBuffers } from '../model/buffer-pool.js';
import { WorkerPool } from '../model/worker-pool.js';
import type { ScoreResult } from './score-result.js';
import type { MadeThumbnail, ScoreRequest, Scorer } from './scorer.js';
import { scoresBatchesTogether } from './pack-scorer.js';
import type { ScoreJob, ScoreWorkerData, WorkerScoreRequest, WorkerThumbnails } from './score-worker.js';
import { JudgeScorer } from './judge/judge-scorer.js';
import { tuneHeapGrowth } from './heap-growth.js';

export * from './score-result.js';
export type { MadeThumbnail, ScoreRequest, Scorer, ScorerLoad } from './scorer.js';
export { imageBuffers, type BufferPoolStats } from '../model/buffer-pool.js';
export { judgeImage, expectedMosOf, type JudgeVerdict, type JudgedAspect, type JudgeOptions } from './judge/judge-rounds.js';
export { JudgeScorer, judgeWithPack } from './judge/judge-scorer.js';
export { HEAP_GROWTH_ENV, HEAP_GROWING_PERCENT, heapGrowthFlag, tuneHeapGrowth } from './heap-growth.js';
export { CascadeScorer, cascadeReason, levelEntropy, type CascadeEvent, type CascadeOutcome, type CascadeSettings } from './cascade-scorer.js';

export interface ScorerOptions {
  /** Pack name (default `lite`), looked up in $AGIQA_HOME/models then the embedded models/. */
  pack?: string | undefined;
  /** A pack folder to load instead of looking the name up. */
  packDir?: string | undefined;
  home?: string | undefined;
  /** Worker threads; default: one per core, at most 4. */
  workers?: number | undefined;
  /** onnxruntime threads inside each worker; default: cores ÷ workers. */
  threadsPerWorker?: number | undefined;
  /** Requests that may wait beyond those running; one more gets AGQ_ERR_QUEUE_FULL. */
  maxQueue?: number | undefined;
  limits?: ImageLimits | undefined;
  /** Running time per image after which a job is cancelled and its worker replaced; none when absent. */
  jobTimeoutMs?: number | undefined;
  /**
   * Each worker (a replacement too) scores a throwaway image before it takes work, so that no user's
   * image pays for the models' first run (~+0.4 s at start); for servers, not one-shot runs.
   */
  warmUp?: boolean | undefined;
}

// The worker runs from the same tree as this module: .ts under tests and tools, .js when built.
const workerScript = new URL(`./score-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

/**
 * The buffers of handed-over images, moved to the worker rather than copied (a 1024² PNG is ~2 MB): a
 * buffer the image fills whole, or a pooled one (its other bytes belong to nobody); never a shared slab.
 */
function handedOver(requests: readonly ScoreRequest[]): TransferListItem[] {
  const buffers = new Set<ArrayBuffer>();
  for (const { image, handOver } of requests) {
    const whole = image.byteOffset === 0 && image.byteLength === image.buffer.byteLength;
    if (handOver === true && (whole || imageBuffers.owns(image.buffer)) && image.buffer instanceof ArrayBuffer) buffers.add(image.buffer);
  }
  return [...buffers];
}

/**
 * The thumbnails asked of the workers, by ticket, until they arrive after their jobs' answers (or the
 * job fails, or the pool closes: null). A request's functions (`made`, `lateAnswer`) never cross to a worker.
 */
class ThumbnailTickets {
  private readonly waiting = new Map<number, (thumbnail: MadeThumbnail | null) => void>();
  private next = 1;

  /** The request as posted to a worker. */
  forWorker({ thumbnail, lateAnswer: _inThisThread, ...request }: ScoreRequest): WorkerScoreRequest {
    if (thumbnail === undefined) return request;
    const ticket = this.next++;
    this.waiting.set(ticket, (made) => thumbnail.made?.(made));
    return { ...request, thumbnail: { size: thumbnail.size, ticket } };
  }

  settle(ticket: number, thumbnail: MadeThumbnail | null): void {
    this.waiting.get(ticket)?.(thumbnail);
    this.waiting.delete(ticket);
  }

  /** A failed job's requests get no thumbnail. */
  failed(requests: readonly WorkerScoreRequest[]): void {
    for (const request of requests) if (request.thumbnail !== undefined) this.settle(request.thumbnail.ticket, null);
  }

  received(value: unknown): void {
    for (const { ticket, thumbnail } of (value ?? []) as WorkerThumbnails) this.settle(ticket, thumbnail);
  }

  closed(): void {
    for (const ticket of [...this.waiting.keys()]) this.settle(ticket, null);
  }
}

/** Loads and verifies the pack, starts the workers; throws the pack's load errors (AGQ_ERR_PACK_*). */
export async function createScorer(options: ScorerOptions = {}): Promise<Scorer> {
  const name = options.pack ?? DEFAULT_PACK;
  const pack = await loadPack(name, { home: options.home, packDir: options.packDir });
  // A judge pack's work happens in its model server: no worker threads, nothing that blocks.
  if (pack.manifest.input.kind === 'judge') {
    if (pack.manifest.predictor === null) return JudgeScorer.create(pack, { limits: options.limits });
    // trained by `agiqa train --pack <judge>`: the predictor runs here too, over the fast pack's tokens
    const { JudgePredictedScorer } = await import('./judge-predicted-scorer.js');
    return JudgePredictedScorer.create(pack, { limits: options.limits, threads: options.threadsPerWorker ?? 1, home: options.home });
  }
  // Before the workers start: they are created under the process's heap growth setting.
  tuneHeapGrowth();
  const cores = availableParallelism();
  const workers = options.workers ?? Math.min(4, cores);
  const threads = options.threadsPerWorker ?? Math.max(1, Math.floor(cores / workers));
  const workerData: ScoreWorkerData = { pack, threads, detectorThreads: detectorThreads(workers, threads), limits: options.limits, warmUp: options.warmUp };
  const tickets = new ThumbnailTickets();
  const pool = await WorkerPool.start<ScoreJob, ScoreResult | ScoreResult[]>({
    script: workerScript,
    workerData,
    size: workers,
    maxQueue: options.maxQueue ?? 64,
    jobTimeoutMs: options.jobTimeoutMs,
    onReturned: (buffers) => imageBuffers.give(buffers),
    onExtra: (value) => tickets.received(value),
  });
  const perImage = options.jobTimeoutMs;
  /** Runs one job; its thumbnails (if asked) follow the answer, or are settled as none when it fails. */
  const run = async (requests: ScoreRequest[], job: (posted: WorkerScoreRequest[]) => ScoreJob, options: { timeoutMs?: number | undefined; label: string }) => {
    const posted = requests.map((request) => tickets.forWorker(request));
    try {
      return await pool.run(job(posted), handedOver(requests), options);
    } catch (error) {
      tickets.failed(posted);
      throw error;
    }
  };
  const score = async (request: ScoreRequest): Promise<ScoreResult> => (await run([request], ([posted]) => ({ kind: 'one', request: posted! }), { label: request.name })) as ScoreResult;
  return {
    pack: { name: pack.manifest.name, version: pack.manifest.version },
    makesThumbnails: true,
    scoresImagesApart: !scoresBatchesTogether(pack.manifest.input.kind),
    score,
    // A CLIP-family batch shares its prompt: one worker encodes it once and runs the image tower on
    // the whole batch. Lite packs gain nothing from that, so their batch is spread over the workers.
    scoreBatch: async (requests) =>
      scoresBatchesTogether(pack.manifest.input.kind)
        ? ((await run(requests, (posted) => ({ kind: 'batch', requests: posted }), {
            // One deadline for the whole batch job, as long as its images' deadlines together.
            timeoutMs: perImage === undefined ? undefined : perImage * requests.length,
            label: `a batch of ${requests.length} (${requests[0]?.name ?? ''}…)`,
          })) as ScoreResult[])
        : Promise.all(requests.map(score)),
    load: () => pool.load,
    close: async (graceMs) => {
      await pool.close(graceMs);
      tickets.closed();
    },
  };
}
