// Images of a batch scored while the rest of the batch is still arriving (a ComfyUI node streams its
// frames one after another in one request): each one starts on a worker as soon as its bytes are in,
// with a slot of the same admission, and the batch picks the running score up when its body is complete.
// Nothing is stored here: a batch that is refused (a bad frame, a bad field, the client gone) abandons
// them; their work still runs to its end on the worker and holds its slot until then.
import { checkImageSize, type ImageLimits } from '../image/index.js';
import type { ScoreRequest, Scorer, ScoreResult } from '../scoring/index.js';
import type { Release } from './admission.js';
import type { PipelineImage } from './types.js';

/** A score started early: the batch that claims it uses `result` and calls `done` once its own work is over. */
export interface EarlyScore {
  result: Promise<ScoreResult>;
  /** The image's dedupe key and size in bytes, read before its buffer moved to the worker. */
  hash: string;
  bytes: number;
  /** The batch is finished with it: its admission slot is freed once the worker has finished too. */
  done: Release;
}

export interface EarlyScoreSteps {
  scorer: Scorer;
  limits: ImageLimits;
  /** The image's dedupe key (sha256 + layout), taken from the entrance when it hashed the bytes as they arrived. */
  hash: (image: PipelineImage) => Promise<string>;
  /** True when the image has a stored score already (answered from the store, never scored again). */
  isStored: (image: PipelineImage, hash: string) => Promise<boolean>;
  /** One admission slot now, or null when there is no room (the image then waits for its batch). */
  tryAdmit: () => Release | null;
  /** The scorer's request for the image (hands its buffer over). */
  request: (image: PipelineImage, hash: string) => ScoreRequest;
  /** Keeps the work in the pipeline's pending set (shutdown waits for it) and logs its failure. */
  track: (work: Promise<ScoreResult>) => void;
}

/**
 * The images a batch added while it arrived. `add` never throws: an image that cannot start early (too
 * large, stored already, a repeat, no room) is left as it is, for the batch to handle as it always did.
 */
export class EarlyScores {
  private readonly started = new Map<PipelineImage, Promise<EarlyScore | null>>();
  private readonly hashes = new Set<string>();
  private readonly claimed = new Set<PipelineImage>();
  private abandoned = false;

  constructor(private readonly steps: EarlyScoreSteps) {}

  /** Starts scoring `image` if it can be (asynchronously; nothing waits for it here). */
  add(image: PipelineImage): void {
    if (this.abandoned || this.started.has(image)) return;
    const starting = this.start(image).catch(() => null);
    this.started.set(image, starting);
  }

  private async start(image: PipelineImage): Promise<EarlyScore | null> {
    checkImageSize(image.name, image.image.length, this.steps.limits);
    const hash = await this.steps.hash(image);
    // A repeat inside the batch is scored once, by the batch's own rule (its first occurrence).
    if (this.hashes.has(hash)) return null;
    this.hashes.add(hash);
    if (this.abandoned || (await this.steps.isStored(image, hash))) return null;
    if (this.abandoned) return null;
    const release = this.steps.tryAdmit();
    if (release === null) return null;
    const bytes = image.image.length; // read now: the scorer transfers (detaches) the buffer
    const result = this.steps.scorer.score(this.steps.request(image, hash));
    this.steps.track(result);
    // The slot is held until both the worker and the batch (or the abandon) are done with the image.
    let keys = 2;
    const turn = () => {
      keys -= 1;
      if (keys === 0) release();
    };
    result.then(turn, turn);
    let finished = false;
    const done = () => {
      if (finished) return;
      finished = true;
      turn();
    };
    return { result, hash, bytes, done };
  }

  /** The early score of `image` (waiting for it to start), or null; the caller now owns it and calls `done`. */
  async claim(image: PipelineImage): Promise<EarlyScore | null> {
    const starting = this.started.get(image);
    if (starting === undefined || this.claimed.has(image)) return null;
    this.claimed.add(image);
    return starting;
  }

  /**
   * The batch will not come (its request was refused): scores not claimed are given up. Their work runs
   * to its end on the worker (a worker job cannot be taken back) and is never stored. Resolves once
   * every image has either started or been left.
   */
  async abandon(): Promise<void> {
    this.abandoned = true;
    const left = [...this.started].filter(([image]) => !this.claimed.has(image)).map(([, starting]) => starting);
    for (const early of await Promise.all(left)) early?.done();
  }

  /** Images that started scoring early (for tests and the bench). */
  async count(): Promise<number> {
    return (await Promise.all(this.started.values())).filter((early) => early !== null).length;
  }
}
