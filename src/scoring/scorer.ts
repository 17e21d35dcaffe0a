// The scoring contract that transports (CLI, server, bridges) depend on; they never see model/.
import type { GenerationParams } from '../prompts/index.js';
import type { ScoreResult } from './score-result.js';

/** The dashboard's thumbnail of a scored image, made by the worker from the pixels it decoded anyway. */
export interface MadeThumbnail {
  /** WebP, at most the asked size on its longer side. */
  webp: Uint8Array;
  /** The sampling settings found in the image's text (embedded, or sent beside raw pixels). */
  params: GenerationParams;
}

export interface ScoreRequest {
  /** Encoded image bytes (PNG, JPEG, WebP, GIF, TIFF, AVIF), or raw 8-bit pixels when `pixels` is set. */
  image: Uint8Array;
  /** The layout of `image` when it holds raw pixels (no decode: a UI's frame as it is in memory). */
  pixels?: { width: number; height: number; channels: number } | undefined;
  /** Text metadata sent beside raw pixels (ComfyUI's `prompt` graph, A1111's `parameters`): the embedded prompt. */
  text?: Record<string, string> | undefined;
  /** A name for messages: the file path, upload name or ComfyUI filename. */
  name: string;
  /** The prompt that made the image; when absent, the prompt embedded in the file is used. */
  prompt?: string | undefined;
  negativePrompt?: string | undefined;
  /** Run the pack's object detector and return its boxes even when the prompt asks for no object. */
  detections?: boolean | undefined;
  /** The hex sha256 of `image` when the caller has it already, so that it is not hashed twice. */
  sha256?: string | undefined;
  /**
   * The caller gives up `image`: its memory moves to the worker instead of being copied, and the
   * caller's view is left empty (detached). Only for a buffer that owns its whole ArrayBuffer.
   */
  handOver?: boolean | undefined;
  /**
   * Asks for the dashboard's thumbnail (longer side `size`) from the pixels the scorer decodes, so the
   * image is not decoded a second time for it. `made` is called once whatever happens (null: none made);
   * a scorer without `makesThumbnails` ignores this.
   */
  thumbnail?: { size: number; made?: ((thumbnail: MadeThumbnail | null) => void) | undefined } | undefined;
  /**
   * Called at most once, after the answer, with a better result that arrived too late for it: a
   * cascade's judge answering past its deadline. The caller stores it so the work is not wasted.
   */
  lateAnswer?: ((result: ScoreResult) => void) | undefined;
}

export interface ScorerLoad {
  queued: number;
  running: number;
  size?: number | undefined;
  workers?: number | undefined;
  stalled?: number | undefined;
  cancelled?: number | undefined;
}

export interface Scorer {
  readonly pack: { name: string; version: string };
  /** True when a request's `thumbnail` is honoured (the worker-pool scorer); otherwise the caller makes its own. */
  readonly makesThumbnails?: boolean | undefined;
  /**
   * True when a batch costs no less than its images scored one by one (a lite pack spread over the
   * workers), so an entrance may start each image as soon as it has arrived instead of waiting for the batch.
   */
  readonly scoresImagesApart?: boolean | undefined;
  score(request: ScoreRequest): Promise<ScoreResult>;
  /** Scores images that share one prompt as one batch (the prompt is encoded once). */
  scoreBatch(requests: ScoreRequest[]): Promise<ScoreResult[]>;
  /**
   * Requests waiting and running now (for metrics and back-pressure); a worker pool also says how
   * many workers serve, how many run a job past half its deadline, and how many jobs it cancelled.
   */
  load(): ScorerLoad;
  /** Finishes admitted work within `graceMs` (default: no limit), then stops; what is left fails. */
  close(graceMs?: number): Promise<void>;
}
