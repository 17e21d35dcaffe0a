// The shapes the store reads and writes: what a caller gives to store a generation, and the views
// of stored generations, scores and events it gets back.
import type { Verdict } from '../policy/index.js';
import type { DetectionResult, ScoreResult } from '../scoring/score-result.js';

export type PromptSource = ScoreResult['prompt']['source'];

export interface ExternalIds {
  promptId?: string | undefined;
  node?: string | undefined;
  filename?: string | undefined;
}

export interface NewGeneration {
  /** Who sent it: `api`, `comfyui`, `a1111`, `cli`. */
  source: string;
  external?: ExternalIds | undefined;
  /**
   * The prompt as the client gave it (null when none): the dedupe key. The stored prompt is the
   * effective one: this, or the one the scorer recovered from the image (`result.prompt`).
   */
  prompt: string | null;
  negativePrompt: string | null;
  imageSha256: string;
  /** Upload name or file path, for people reading the history. */
  fileRef: string | null;
  bytes: number;
  /** The generation this one regenerates. */
  parentId?: number | null | undefined;
}

export interface PackId {
  name: string;
  version: string;
}

export interface StoredEvent {
  id: number;
  type: 'generation.scored' | 'generation.verdict';
  createdAt: string;
  data: Record<string, unknown>;
}

export interface StoredScore {
  generationId: number;
  scoreId: number;
  result: ScoreResult;
  /** The latest verdict recorded for this score. */
  verdict: Verdict | null;
}

export interface SavedScore extends StoredScore {
  /** Events appended by this write, in order (for the live stream). */
  events: StoredEvent[];
  /** False when an identical score was already stored (a concurrent duplicate): the stored one is returned. */
  inserted: boolean;
}

/** A generation's object boxes: those of its latest score, in the image's pixels (GET /v1/generations/:id/detections). */
export interface GenerationDetections {
  generationId: number;
  scoreId: number;
  pack: { name: string; version: string };
  image: { width: number | null; height: number | null };
  detections: DetectionResult[];
}

export interface GenerationView {
  id: number;
  createdAt: string;
  source: string;
  external: { promptId: string | null; node: string | null; filename: string | null };
  /** The effective prompt: given by the client, or recovered from the image's metadata. */
  prompt: string | null;
  /** Where `prompt` came from: `argument` (given), `embedded` (recovered from the image) or `none`. */
  promptSource: PromptSource;
  negativePrompt: string | null;
  image: { sha256: string; width: number | null; height: number | null; bytes: number; file: string | null };
  parentId: number | null;
  scores: {
    id: number;
    createdAt: string;
    pack: PackId;
    mos: number;
    level: string;
    verdict: Verdict | null;
    result: ScoreResult;
  }[];
}

export interface GenerationFilter {
  /** Substring of the prompt, case-insensitive for ASCII. */
  prompt?: string | undefined;
  verdict?: 'accept' | 'reject' | undefined;
  /** Exactly this external prompt id (ComfyUI prompt_id) / node id. */
  promptId?: string | undefined;
  node?: string | undefined;
  /** A generation id (exclusive) or an ISO date-time (inclusive). */
  since?: number | string | undefined;
  limit?: number | undefined;
}
