// The one scoring pipeline every entrance calls (HTTP routes, the ComfyUI bridge, the plugins' routes,
// `agiqa score --server`): admission against one capacity, dedupe by image hash + prompt + pack version,
// scoring, the verdict and the batch rank, persistence before the answer, then the live events and the
// metrics. Transport-free: a route parses its body, a bridge fetches its files, both hand over images.
import type { Logger } from 'pino';
import { agiqaError, isAgiqaError, type AgiqaError } from '../errors/index.js';
import { checkImageSize } from '../image/index.js';
import { judge, rank, type Policy, type Verdict } from '../policy/index.js';
import type { ScoreRequest, Scorer, ScorerLoad, ScoreResult } from '../scoring/index.js';
import type { SavedScore, Store, StoredEvent, StoredScore } from '../store/index.js';
import { Admission, type AdmissionTicket, type Release } from './admission.js';
import { lookUpBatch, storedScoreOf } from './batch-lookup.js';
import { EarlyScores } from './early-scores.js';
import { imageSha256 } from './hash.js';
import { PendingWork } from './pending-work.js';
import { scoreFresh } from './sliced-scoring.js';
import type { BatchItem, BatchOptions, GenerationMetadata, PipelineImage, PipelineMetrics, RankedImage, RankOutcome, ScoredImage, ScorerState, ThumbnailSink } from './types.js';

export interface ScoringPipelineOptions {
  scorer: Scorer | Promise<Scorer>;
  store: Store;
  /** The policy, or a getter read at every verdict: the live settings the dashboard changes without a restart. */
  policy: Policy | (() => Policy);
  /** The dashboard's thumbnails: sees each new image just before the scorer takes its buffer. */
  thumbnails?: ThumbnailSink | undefined;
  /** Images admitted at once (running + waiting); one more is refused (AGQ_ERR_QUEUE_FULL) or waits. */
  capacity: number;
  /** How long a request waits for its answer (the work goes on and is stored regardless). */
  timeoutMs: number;
  limits: { maxBytes: number; maxPixels: number };
  metrics?: PipelineMetrics | undefined;
  publish?: ((events: StoredEvent[]) => void) | undefined;
  logger?: Pick<Logger, 'debug' | 'error'> | undefined;
}

const NO_METRICS: PipelineMetrics = { scores: { inc: () => undefined }, cacheHits: { inc: () => undefined }, rejectedBusy: { inc: () => undefined } };

function toAgiqaError(error: unknown): AgiqaError {
  if (isAgiqaError(error)) return error;
  return agiqaError('AGQ_ERR_SERVER_INTERNAL', { detail: error instanceof Error ? error.message : String(error) }, { cause: error });
}

export type { BatchOptions, ScorerState } from './types.js';

export class ScoringPipeline {
  private scorerState: ScorerState = { state: 'loading' };
  private readonly admission: Admission;
  private readonly metrics: PipelineMetrics;
  /** Work still running, including scores that outlived their request's timeout (awaited at shutdown). */
  private readonly pending: PendingWork;
  /** Identical concurrent requests share one scoring instead of each occupying a worker. */
  private readonly sameImage = new Map<string, Promise<SavedScore>>();
  /** Requests accepted by `enter` and not answered yet (some still reading their bodies). */
  private entered = 0;

  constructor(private readonly options: ScoringPipelineOptions) {
    this.metrics = options.metrics ?? NO_METRICS;
    this.pending = new PendingWork((error) => options.logger?.debug({ err: error }, 'scoring finished with an error'));
    this.admission = new Admission({ capacity: options.capacity, onRejected: () => this.metrics.rejectedBusy.inc() });
    Promise.resolve(options.scorer).then(
      (scorer) => {
        this.scorerState = { state: 'ready', scorer };
      },
      (error: unknown) => {
        this.scorerState = { state: 'failed', error: toAgiqaError(error) };
        options.logger?.error({ err: error }, 'the scoring pack could not be loaded');
      },
    );
  }

  get scorer(): ScorerState {
    return this.scorerState;
  }

  /** The policy verdicts are judged with (a bridge reads its regeneration budget from it). */
  get policy(): Policy {
    const policy = this.options.policy;
    return typeof policy === 'function' ? policy() : policy;
  }

  get load(): ScorerLoad & { inFlight: number; capacity: number; waiting: number } {
    const scorerLoad = this.scorerState.state === 'ready' ? this.scorerState.scorer.load() : { queued: 0, running: 0 };
    return { inFlight: this.admission.inFlight, capacity: this.admission.capacity, waiting: this.admission.waiters, ...scorerLoad };
  }

  /** Images admitted or being scored: background work (thumbnails) waits while this holds. */
  get isBusy(): boolean {
    const load = this.load;
    return load.inFlight > 0 || load.running > 0 || load.queued > 0;
  }

  get isClosing(): boolean {
    return this.admission.isClosing;
  }

  private assertReady(): void {
    if (this.scorerState.state === 'loading') throw agiqaError('AGQ_ERR_SERVER_NOT_READY', { detail: 'the model pack is still loading' });
    if (this.scorerState.state === 'failed') throw agiqaError('AGQ_ERR_SERVER_NOT_READY', { detail: this.scorerState.error.message });
  }

  /**
   * Refuses at once, before an entrance reads its images, when nothing could be scored:
   * AGQ_ERR_SHUTTING_DOWN or AGQ_ERR_SERVER_NOT_READY.
   */
  assertAccepting(): void {
    if (this.admission.isClosing) throw agiqaError('AGQ_ERR_SHUTTING_DOWN', {});
    this.assertReady();
  }

  /**
   * Reserves room for `count` images now or throws AGQ_ERR_QUEUE_FULL / _SHUTTING_DOWN / _SERVER_NOT_READY.
   * Returns the release function (idempotent).
   */
  admit(count: number): Release {
    this.assertAccepting();
    return this.admission.admit(count);
  }

  /**
   * Accepts a request before its body is read: throws AGQ_ERR_SHUTTING_DOWN / _SERVER_NOT_READY at once
   * when nothing could be scored. Its ticket takes room only for images not stored yet (now, or
   * AGQ_ERR_QUEUE_FULL), and still does once shutdown began: the request was accepted before it, and
   * `drain` waits for it. Call `leave` when the request is answered.
   */
  enter(): { ticket: AdmissionTicket; leave: () => void } {
    this.assertAccepting();
    this.entered += 1;
    let left = false;
    return {
      ticket: {
        onMiss: (count) => {
          this.assertReady();
          return this.admission.admit(count, true);
        },
      },
      leave: () => {
        if (left) return;
        left = true;
        this.entered -= 1;
      },
    };
  }

  /**
   * For an entrance whose batch arrives image by image (raw frames streamed in one request): each image
   * added starts scoring at once, with `metadata`, when the scorer scores images apart and there is room;
   * pass the result as `early` to `rankBatch`, or `abandon` it when the request is refused. Null when
   * nothing can start early (a batch-encoding scorer, an admission already taken, a scorer not ready).
   */
  earlyScores(metadata: GenerationMetadata, ticket: AdmissionTicket): EarlyScores | null {
    if (typeof ticket === 'function' || this.scorerState.state !== 'ready' || this.scorerState.scorer.scoresImagesApart !== true) return null;
    const scorer = this.scorerState.scorer;
    const prompt = metadata.prompt ?? null;
    return new EarlyScores({
      scorer,
      limits: this.options.limits,
      hash: imageSha256,
      isStored: async (image, hash) => (await storedScoreOf({ store: this.options.store, pack: scorer.pack, limits: this.options.limits, prompt }, image, hash)) !== null,
      tryAdmit: () => this.admission.tryAdmit(1, true),
      request: (image, hash) => this.request(scorer, image, metadata, hash),
      track: (work) => void this.pending.track(work).catch(() => undefined),
    });
  }

  /** Reserves room for `count` images (at most the capacity), waiting in line: for entrances with nobody to answer 503 to. */
  async admitWhenFree(count: number): Promise<Release> {
    this.assertReady();
    return this.admission.admitWhenFree(count);
  }

  private readyScorer(): Scorer {
    if (this.scorerState.state !== 'ready') throw agiqaError('AGQ_ERR_SERVER_NOT_READY', { detail: 'the model pack is not loaded' });
    return this.scorerState.scorer;
  }

  private policyWith(overrides: { topK?: number | undefined; keepAtLeast?: number | undefined } = {}): Policy {
    const { thresholds, topK, keepAtLeast, maxRegenerations } = this.policy;
    return { thresholds, topK: overrides.topK ?? topK, keepAtLeast: overrides.keepAtLeast ?? keepAtLeast, maxRegenerations };
  }

  /** A stored score answered again: the verdict is re-judged (the policy may have changed) and recorded if new. */
  private async answerCached(stored: StoredScore, verdict: Verdict): Promise<Verdict> {
    const event = await this.options.store.saveVerdict(stored.generationId, stored.scoreId, verdict);
    if (event !== null) this.options.publish?.([event]);
    this.metrics.cacheHits.inc();
    return verdict;
  }

  private recordNew(saved: SavedScore): void {
    if (!saved.inserted) return;
    this.options.publish?.(saved.events);
    this.metrics.scores.inc({ verdict: saved.verdict?.verdict ?? 'none' });
  }

  private checkSize(image: PipelineImage): void {
    checkImageSize(image.name, image.image.length, this.options.limits);
  }

  private request(scorer: Scorer, image: PipelineImage, metadata: GenerationMetadata, sha256: string): ScoreRequest {
    // A worker scorer makes the thumbnail from the pixels it decodes; otherwise the sink copies the bytes.
    const thumbnail = this.options.thumbnails?.forImage(sha256, image, scorer.makesThumbnails === true);
    const bytes = image.image.length; // read now: the scorer transfers (detaches) the buffer
    // The entrance's buffer is not read again: it moves to the worker instead of being copied.
    return {
      image: image.image,
      pixels: image.pixels,
      text: image.text,
      name: image.name,
      prompt: metadata.prompt,
      negativePrompt: metadata.negativePrompt,
      sha256,
      handOver: true,
      thumbnail,
      lateAnswer: (result) => this.saveLate(image, metadata, sha256, bytes, result),
    };
  }

  /**
   * Stores a result that came after the answer (a cascade's judge past its deadline) as the generation's
   * latest score, judged by the thresholds alone (a batch's rank was given already), and publishes it.
   */
  private saveLate(image: PipelineImage, metadata: GenerationMetadata, sha256: string, bytes: number, result: ScoreResult): void {
    const work = this.save(image, metadata, sha256, bytes, result, judge(result, this.policyWith())).then((saved) => {
      if (saved.inserted) this.options.publish?.(saved.events);
    });
    void this.pending.track(work).catch(() => undefined); // a failure is logged through pending's onError
  }

  private save(image: PipelineImage, metadata: GenerationMetadata, sha256: string, bytes: number, result: ScoreResult, verdict: Verdict): Promise<SavedScore> {
    return this.options.store.saveScore(
      {
        source: metadata.source ?? 'api',
        // The batch's ids (prompt, node) with the image's own (its file name) over them.
        external: image.external === undefined ? metadata.external : { ...metadata.external, ...image.external },
        prompt: metadata.prompt ?? null,
        negativePrompt: metadata.negativePrompt ?? null,
        imageSha256: sha256,
        fileRef: image.fileRef,
        bytes,
        parentId: metadata.parentId ?? null,
      },
      result,
      verdict,
    );
  }

  /**
   * Scores one image (or returns its stored score) and stores it before answering. `ticket` is its
   * admission: taken already, or taken only on a cache miss (see AdmissionTicket).
   */
  async scoreOne(image: PipelineImage, metadata: GenerationMetadata, ticket: AdmissionTicket): Promise<ScoredImage> {
    let work: Promise<ScoredImage> | undefined;
    let release: Release = typeof ticket === 'function' ? ticket : () => undefined;
    try {
      this.checkSize(image);
      const scorer = this.readyScorer();
      const sha256 = await imageSha256(image);
      const prompt = metadata.prompt ?? null;
      const stored = await storedScoreOf({ store: this.options.store, pack: scorer.pack, limits: this.options.limits, prompt }, image, sha256);
      if (stored !== null) {
        const verdict = await this.answerCached(stored, judge(stored.result, this.policyWith()));
        return { generationId: stored.generationId, cached: true, result: stored.result, verdict };
      }
      const bytes = image.image.length; // read now: the scorer transfers (detaches) the buffer
      const key = `${sha256}\n${prompt ?? ''}`;
      let shared = this.sameImage.get(key);
      // The same image already being scored costs no second slot: this request waits for that one.
      if (shared === undefined) {
        if (typeof ticket !== 'function') release = ticket.onMiss(1);
        shared = (async () => {
          const result = await scorer.score(this.request(scorer, image, metadata, sha256));
          const saved = await this.save(image, metadata, sha256, bytes, result, judge(result, this.policyWith()));
          this.recordNew(saved);
          return saved;
        })();
        const forget = () => this.sameImage.delete(key);
        shared.then(forget, forget);
        this.sameImage.set(key, shared);
      }
      work = shared.then((saved) => ({ generationId: saved.generationId, cached: false, result: saved.result, verdict: saved.verdict! }));
      work.then(release, release);
      return await this.pending.track(work, this.options.timeoutMs);
    } finally {
      if (work === undefined) release();
    }
  }

  /**
   * Scores images that share a prompt as one batch, ranks them (a batch of one is rank 1) and stores each
   * with its batch verdict. Throws the first image's error: a request is answered whole or not at all.
   */
  async rankBatch(images: PipelineImage[], metadata: GenerationMetadata, options: BatchOptions, ticket: AdmissionTicket): Promise<RankOutcome> {
    const { items, outcome } = await this.batch(images, metadata, { ...options, partial: false }, ticket);
    const ranked: RankedImage[] = [];
    for (const item of items) {
      if (!item.ok) throw item.error;
      const { ok: _ok, ...rest } = item;
      ranked.push(rest);
    }
    return { ...outcome, items: ranked };
  }

  /**
   * The bridge's form of `rankBatch`: an image that cannot be scored is reported in its item and the
   * others are ranked among themselves. Never throws for one image's fault.
   */
  async scoreBatch(images: PipelineImage[], metadata: GenerationMetadata, options: BatchOptions, ticket: AdmissionTicket): Promise<BatchItem[]> {
    return (await this.batch(images, metadata, { ...options, partial: true }, ticket)).items;
  }

  private async batch(
    images: PipelineImage[],
    metadata: GenerationMetadata,
    options: BatchOptions & { partial: boolean },
    ticket: AdmissionTicket,
  ): Promise<{ items: BatchItem[]; outcome: Omit<RankOutcome, 'items'> }> {
    let work: Promise<{ items: BatchItem[]; outcome: Omit<RankOutcome, 'items'> }> | undefined;
    let ownRelease: Release = typeof ticket === 'function' ? ticket : () => undefined;
    // Images scored while the batch arrived: their slots are this batch's once claimed.
    const early = await Promise.all(images.map((image) => options.early?.claim(image) ?? null));
    const release: Release = () => {
      ownRelease();
      for (const started of early) started?.done();
    };
    try {
      const failed = new Map<number, AgiqaError>();
      for (const [index, image] of images.entries()) {
        if (early[index] !== null) continue; // checked before it started
        try {
          this.checkSize(image);
        } catch (error) {
          if (!options.partial) throw error;
          failed.set(index, toAgiqaError(error));
        }
      }
      const scorer = this.readyScorer();
      const { hashes, sizes, stored, toScore, firstIndexOfHash } = await lookUpBatch(images, early, failed, { store: this.options.store, pack: scorer.pack, limits: this.options.limits, prompt: metadata.prompt ?? null });
      // Only images not stored yet take room; a batch larger than the capacity takes all of it (scored in
      // slices), counting the slots its early images hold already.
      const later = toScore.filter((index) => early[index] === null);
      const room = this.admission.capacity - early.filter((started) => started !== null).length;
      if (typeof ticket !== 'function' && later.length > 0 && room > 0) ownRelease = ticket.onMiss(Math.min(later.length, room));
      work = (async () => {
        const requests = later.map((index) => this.request(scorer, images[index]!, metadata, hashes[index]!));
        const earlyResults = toScore.map((index) => early[index]?.result ?? null);
        const fresh = await scoreFresh(scorer, { early: earlyResults, requests, room, capacity: this.admission.capacity, partial: options.partial });
        const freshByHash = new Map<string, ScoreResult>();
        toScore.forEach((index, position) => {
          const settled = fresh[position]!;
          if (settled.status === 'fulfilled') freshByHash.set(hashes[index]!, settled.value);
          else failed.set(index, toAgiqaError(settled.reason));
        });
        for (const [index, hash] of hashes.entries()) {
          if (!failed.has(index) && stored[index] === null && !freshByHash.has(hash)) failed.set(index, failed.get(firstIndexOfHash.get(hash)!)!);
        }
        const scoredIndices = hashes.map((_, index) => index).filter((index) => !failed.has(index));
        const results = scoredIndices.map((index) => stored[index]?.result ?? freshByHash.get(hashes[index]!)!);
        const ranked = rank(results, this.policyWith({ topK: options.topK, keepAtLeast: options.keepAtLeast }));
        const items: BatchItem[] = images.map((_, index) => ({ ok: false, index, error: failed.get(index)! }));
        const savedByHash = new Map<string, SavedScore>();
        for (const [position, index] of scoredIndices.entries()) {
          const verdict = ranked.verdicts[position]!;
          const rankPosition = ranked.order.indexOf(position) + 1;
          const previous = stored[index];
          if (previous !== null && previous !== undefined) {
            await this.answerCached(previous, verdict);
            items[index] = { ok: true, index, rank: rankPosition, generationId: previous.generationId, scoreId: previous.scoreId, cached: true, result: previous.result, verdict };
            continue;
          }
          const hash = hashes[index]!;
          let saved = savedByHash.get(hash);
          if (saved === undefined) {
            saved = await this.save(images[index]!, metadata, hash, sizes[index]!, results[position]!, verdict);
            savedByHash.set(hash, saved);
            this.recordNew(saved);
            if (!saved.inserted) await this.answerCached(saved, verdict);
          }
          const cached = !saved.inserted || firstIndexOfHash.get(hash) !== index;
          items[index] = { ok: true, index, rank: rankPosition, generationId: saved.generationId, scoreId: saved.scoreId, cached, result: saved.result, verdict };
        }
        const toInput = (positions: number[]) => positions.map((position) => scoredIndices[position]!);
        return { items, outcome: { order: toInput(ranked.order), topK: toInput(ranked.topK), passing: toInput(ranked.passing) } };
      })();
      work.then(release, release);
      return await this.pending.track(work, (options.deadline ?? true) ? this.options.timeoutMs : undefined);
    } finally {
      if (work === undefined) release();
    }
  }

  /**
   * Stops admitting and waits (at most `graceMs`) for accepted requests to be answered and admitted
   * work, including timed-out scores, to be stored.
   */
  async drain(graceMs: number): Promise<void> {
    this.admission.close();
    await this.pending.settle(graceMs, () => this.entered > 0);
  }
}
