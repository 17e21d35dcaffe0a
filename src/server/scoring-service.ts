// What the HTTP routes do with images: admission against the queue bound, dedupe by image hash +
// prompt + pack version, scoring with a per-request timeout, the verdict, and persistence before
// the answer. Transport-free, so the routes stay thin and the bridges could reuse it.
import { createHash, webcrypto } from 'node:crypto';
import type { Logger } from 'pino';
import type { PolicyConfig } from '../config/index.js';
import { agiqaError, isAgiqaError, type AgiqaError } from '../errors/index.js';
import { checkImageSize } from '../image/index.js';
import { judge, rank, type Policy, type Verdict } from '../policy/index.js';
import type { ScoreRequest, Scorer, ScoreResult } from '../scoring/index.js';
import type { SavedScore, Store, StoredEvent, StoredScore } from '../store/index.js';
import type { ImageInput, ParsedRank, ParsedScore } from './image-input.js';
import type { ServerMetrics } from './metrics.js';
import type { RankResponse, ScoreResponse } from './schemas.js';

export interface ScoringServiceOptions {
  scorer: Scorer | Promise<Scorer>;
  store: Store;
  /** The policy, or a getter read at every verdict (the live settings: changed without a restart). */
  policy: PolicyConfig | (() => PolicyConfig);
  /** Images admitted at once (running + waiting); one more is answered 503 + Retry-After. */
  capacity: number;
  timeoutMs: number;
  limits: { maxBytes: number; maxPixels: number };
  metrics: ServerMetrics;
  publish: (events: StoredEvent[]) => void;
  logger: Logger;
  /** Sees each new image's bytes before the scorer takes them (the dashboard's thumbnails); must not keep them. */
  onImage?: ((imageSha256: string, bytes: Uint8Array) => void) | undefined;
}

export type ScorerState = { state: 'loading' } | { state: 'ready'; scorer: Scorer } | { state: 'failed'; error: AgiqaError };

/** Above this size an image is hashed on the thread pool; below, hashing inline (~0.7 ms/MB) is cheaper than the hop. */
const INLINE_HASH_BYTES = 4 * 1024 * 1024;

async function sha256(bytes: Uint8Array): Promise<string> {
  if (bytes.length <= INLINE_HASH_BYTES) return createHash('sha256').update(bytes).digest('hex');
  return Buffer.from(await webcrypto.subtle.digest('SHA-256', bytes)).toString('hex');
}

function toAgiqaError(error: unknown): AgiqaError {
  if (isAgiqaError(error)) return error;
  return agiqaError('AGQ_ERR_SERVER_INTERNAL', { detail: error instanceof Error ? error.message : String(error) }, { cause: error });
}

export class ScoringService {
  private scorerState: ScorerState = { state: 'loading' };
  private inFlight = 0;
  private closing = false;
  /** Work still running, including scores that outlived their request's timeout (awaited at shutdown). */
  private readonly pending = new Set<Promise<unknown>>();
  /** Identical concurrent requests share one scoring instead of each occupying a worker. */
  private readonly sameImage = new Map<string, Promise<SavedScore>>();

  constructor(private readonly options: ScoringServiceOptions) {
    Promise.resolve(options.scorer).then(
      (scorer) => {
        this.scorerState = { state: 'ready', scorer };
      },
      (error: unknown) => {
        this.scorerState = { state: 'failed', error: toAgiqaError(error) };
        options.logger.error({ err: error }, 'the scoring pack could not be loaded');
      },
    );
  }

  get scorer(): ScorerState {
    return this.scorerState;
  }

  get load(): { inFlight: number; capacity: number; queued: number; running: number } {
    const scorerLoad = this.scorerState.state === 'ready' ? this.scorerState.scorer.load() : { queued: 0, running: 0 };
    return { inFlight: this.inFlight, capacity: this.options.capacity, ...scorerLoad };
  }

  /**
   * Reserves room for `count` images or throws AGQ_ERR_QUEUE_FULL / _SHUTTING_DOWN / _SERVER_NOT_READY.
   * Returns the release function (idempotent).
   */
  admit(count: number): () => void {
    if (this.closing) throw agiqaError('AGQ_ERR_SHUTTING_DOWN', {});
    if (this.scorerState.state === 'loading') throw agiqaError('AGQ_ERR_SERVER_NOT_READY', { detail: 'the model pack is still loading' });
    if (this.scorerState.state === 'failed') throw agiqaError('AGQ_ERR_SERVER_NOT_READY', { detail: this.scorerState.error.message });
    if (this.inFlight + count > this.options.capacity) {
      this.options.metrics.rejectedBusy.inc();
      throw agiqaError('AGQ_ERR_QUEUE_FULL', { queued: this.inFlight, maxQueue: this.options.capacity });
    }
    this.inFlight += count;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlight -= count;
    };
  }

  private readyScorer(): Scorer {
    if (this.scorerState.state !== 'ready') throw agiqaError('AGQ_ERR_SERVER_NOT_READY', { detail: 'the model pack is not loaded' });
    return this.scorerState.scorer;
  }

  /** Runs `work` to completion in the background; the caller waits at most timeoutMs for it. */
  private async withTimeout<T>(work: Promise<T>): Promise<T> {
    this.pending.add(work);
    const forget = () => this.pending.delete(work);
    work.then(forget, (error: unknown) => {
      forget();
      this.options.logger.debug({ err: error }, 'scoring finished with an error');
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(agiqaError('AGQ_ERR_SERVER_TIMEOUT', { timeoutMs: this.options.timeoutMs })), this.options.timeoutMs);
    });
    try {
      return await Promise.race([work, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private policyWith(overrides: { topK?: number | undefined; keepAtLeast?: number | undefined } = {}): Policy {
    const policy = this.options.policy;
    const { thresholds, topK, keepAtLeast, maxRegenerations } = typeof policy === 'function' ? policy() : policy;
    return { thresholds, topK: overrides.topK ?? topK, keepAtLeast: overrides.keepAtLeast ?? keepAtLeast, maxRegenerations };
  }

  /** A stored score answered again: the verdict is re-judged (the policy may have changed) and recorded if new. */
  private async answerCached(stored: StoredScore, verdict: Verdict): Promise<Verdict> {
    const event = await this.options.store.saveVerdict(stored.generationId, stored.scoreId, verdict);
    if (event !== null) this.options.publish([event]);
    this.options.metrics.cacheHits.inc();
    return verdict;
  }

  private recordNew(saved: SavedScore): void {
    if (!saved.inserted) return;
    this.options.publish(saved.events);
    this.options.metrics.scores.inc({ verdict: saved.verdict?.verdict ?? 'none' });
  }

  /** Scores one image (or returns its stored score) and stores it before answering. `release` frees its admission. */
  async scoreOne(parsed: ParsedScore, release: () => void): Promise<ScoreResponse> {
    let work: Promise<ScoreResponse> | undefined;
    try {
      const { input, metadata } = parsed;
      checkImageSize(input.name, input.image.length, this.options.limits);
      const scorer = this.readyScorer();
      const imageSha256 = input.sha256 ?? (await sha256(input.image));
      const prompt = metadata.prompt ?? null;
      const stored = await this.options.store.findScore(imageSha256, prompt, scorer.pack);
      if (stored !== null) {
        const verdict = await this.answerCached(stored, judge(stored.result, this.policyWith()));
        return { generationId: stored.generationId, cached: true, result: stored.result, verdict };
      }
      const bytes = input.image.length; // read now: a scorer may transfer (detach) the buffer
      const key = `${imageSha256}\n${prompt ?? ''}`;
      let shared = this.sameImage.get(key);
      if (shared === undefined) {
        this.options.onImage?.(imageSha256, input.image);
        shared = (async () => {
          // The request's buffer is not read again: it moves to the worker instead of being copied.
          const result = await scorer.score({ image: input.image, name: input.name, prompt: metadata.prompt, negativePrompt: metadata.negativePrompt, sha256: imageSha256, handOver: true });
          const saved = await this.options.store.saveScore(
            {
              source: metadata.source ?? 'api',
              external: input.external,
              prompt,
              negativePrompt: metadata.negativePrompt ?? null,
              imageSha256,
              fileRef: input.fileRef,
              bytes,
              parentId: metadata.parentId,
            },
            result,
            judge(result, this.policyWith()),
          );
          this.recordNew(saved);
          return saved;
        })();
        const forget = () => this.sameImage.delete(key);
        shared.then(forget, forget);
        this.sameImage.set(key, shared);
      }
      work = shared.then((saved) => ({ generationId: saved.generationId, cached: false, result: saved.result, verdict: saved.verdict! }));
      work.then(release, release);
      return await this.withTimeout(work);
    } finally {
      if (work === undefined) release();
    }
  }

  /** Scores a batch in slices no larger than the admission capacity, so the worker queue never overflows. */
  private async scoreInSlices(scorer: Scorer, requests: ScoreRequest[]): Promise<ScoreResult[]> {
    const results: ScoreResult[] = [];
    for (let start = 0; start < requests.length; start += this.options.capacity) {
      results.push(...(await scorer.scoreBatch(requests.slice(start, start + this.options.capacity))));
    }
    return results;
  }

  /** Scores a batch sharing a prompt as one batch, ranks it and stores every score with its batch verdict. */
  async rankBatch(parsed: ParsedRank, release: () => void): Promise<RankResponse> {
    let work: Promise<RankResponse> | undefined;
    try {
      const { inputs, metadata } = parsed;
      for (const input of inputs) checkImageSize(input.name, input.image.length, this.options.limits);
      const scorer = this.readyScorer();
      const prompt = metadata.prompt ?? null;
      const hashes = await Promise.all(inputs.map((input) => input.sha256 ?? sha256(input.image)));
      const sizes = inputs.map((input) => input.image.length);
      const stored: (StoredScore | null)[] = [];
      for (const hash of hashes) stored.push(await this.options.store.findScore(hash, prompt, scorer.pack));
      // An image repeated inside the batch is scored once.
      const firstIndexOfHash = new Map<string, number>();
      const toScore: number[] = [];
      hashes.forEach((hash, index) => {
        if (stored[index] !== null || firstIndexOfHash.has(hash)) return;
        firstIndexOfHash.set(hash, index);
        toScore.push(index);
      });
      for (const index of toScore) this.options.onImage?.(hashes[index]!, inputs[index]!.image);
      work = (async () => {
        const fresh = await this.scoreInSlices(
          scorer,
          toScore.map((index) => ({
            image: inputs[index]!.image,
            name: inputs[index]!.name,
            prompt: metadata.prompt,
            negativePrompt: metadata.negativePrompt,
            sha256: hashes[index],
            handOver: true,
          })),
        );
        const freshByHash = new Map<string, ScoreResult>(toScore.map((index, position) => [hashes[index]!, fresh[position]!]));
        const results = hashes.map((hash, index) => stored[index]?.result ?? freshByHash.get(hash)!);
        const outcome = rank(results, this.policyWith({ topK: parsed.topK, keepAtLeast: parsed.keepAtLeast }));
        const items: RankResponse['items'] = [];
        const savedByHash = new Map<string, SavedScore>();
        for (const [index, input] of inputs.entries()) {
          const verdict = outcome.verdicts[index]!;
          const rankPosition = outcome.order.indexOf(index) + 1;
          const previous = stored[index];
          if (previous !== null && previous !== undefined) {
            await this.answerCached(previous, verdict);
            items.push({ index, rank: rankPosition, generationId: previous.generationId, cached: true, result: previous.result, verdict });
            continue;
          }
          const hash = hashes[index]!;
          let saved = savedByHash.get(hash);
          if (saved === undefined) {
            saved = await this.options.store.saveScore(
              { source: metadata.source ?? 'api', external: input.external, prompt, negativePrompt: metadata.negativePrompt ?? null, imageSha256: hash, fileRef: input.fileRef, bytes: sizes[index]!, parentId: metadata.parentId },
              results[index]!,
              verdict,
            );
            savedByHash.set(hash, saved);
            this.recordNew(saved);
            if (!saved.inserted) await this.answerCached(saved, verdict);
          }
          items.push({ index, rank: rankPosition, generationId: saved.generationId, cached: !saved.inserted || firstIndexOfHash.get(hash) !== index, result: saved.result, verdict });
        }
        return { order: outcome.order, topK: outcome.topK, passing: outcome.passing, items };
      })();
      work.then(release, release);
      return await this.withTimeout(work);
    } finally {
      if (work === undefined) release();
    }
  }

  /** Stops admitting and waits (at most `graceMs`) for admitted work, including timed-out scores, to be stored. */
  async drain(graceMs: number): Promise<void> {
    this.closing = true;
    const deadline = Date.now() + graceMs;
    while (this.pending.size > 0 && Date.now() < deadline) {
      await Promise.race([Promise.allSettled([...this.pending]), new Promise((resolve) => setTimeout(resolve, Math.max(0, deadline - Date.now())).unref())]);
    }
  }

  get isClosing(): boolean {
    return this.closing;
  }
}
