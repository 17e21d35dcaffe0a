// Correspondence from object checks, shared by the packs that run them: the lite pack (its only
// correspondence) and the CLIP packs (beside their zero-shot round, with the lite pack's detector).
// Runs the detector only when its answer is used, and says how the two judgements combine.
import type { DecodedImage } from '../image/index.js';
import type { ObjectDetector } from '../model/object-detector.js';
import { COCO_CLASSES, parseObjectPrompt } from '../prompts/index.js';
import { boxColour } from '../signals/index.js';
import { round } from './levels.js';
import { nothingToCheck, objectChecksRound, type LabelledBox } from './rounds/object-checks-round.js';
import type { RoundOutput } from './rounds/round.js';
import type { AspectResult, DetectionResult, Finding } from './score-result.js';

export interface ObjectCorrespondence {
  /** The checks' round; null when there was nothing to check (no prompt, no COCO object): `reason` says which. */
  round: RoundOutput | null;
  reason: string | null;
  /** The boxes, when the detector ran. */
  detections: DetectionResult[] | undefined;
  /** Wall time of detection and checks, when the detector ran. */
  detectorMs: number | undefined;
}

/**
 * Parses `prompt` for COCO objects and, when it names some (or `wantDetections` asks for the boxes),
 * detects and checks them on `image`. Throws the detector's AGQ_ERR_INFERENCE.
 */
export async function objectCorrespondence(
  detector: ObjectDetector,
  image: DecodedImage,
  prompt: string | null,
  wantDetections: boolean,
): Promise<ObjectCorrespondence> {
  const parsed = prompt === null ? null : parseObjectPrompt(prompt);
  const checkable = parsed !== null && parsed.requests.length > 0;
  // The detector costs more than the rest of the lite pack: run it only when its answer is used.
  if (!checkable && !wantDetections) {
    return { round: null, reason: parsed === null ? null : nothingToCheck(parsed), detections: undefined, detectorMs: undefined };
  }
  const start = performance.now();
  const boxes: LabelledBox[] = (await detector.detect(image)).map((d) => ({ ...d, label: COCO_CLASSES[d.classIndex]! }));
  const detections = boxes.map((b) => ({
    label: b.label,
    score: round(b.score, 3),
    box: { x: round(b.x1, 1), y: round(b.y1, 1), width: round(b.x2 - b.x1, 1), height: round(b.y2 - b.y1, 1) },
  }));
  const outcome = parsed === null ? { round: null, reason: null } : objectChecksRound(parsed, boxes, (b) => boxColour(image, b));
  return { round: outcome.round, reason: outcome.reason, detections, detectorMs: round(performance.now() - start, 2) };
}

/** The checks' MOS when every check passes (0.5 + 4 × 1). */
const ALL_PASS_MOS = 4.5;

/**
 * The CLIP packs' rule for combining their zero-shot correspondence with the object checks: the checks
 * only ever lower it. When every check passes, CLIP's judgement stands (the detector knows 80 object
 * classes, not style, action or scene, so a pass says little); when one fails, the level is capped at
 * the checks' own (0.5 + 4 × the fraction passed), so "asked for 3 dogs, found 1" cannot sit beside an
 * "excellent". The checks' findings are appended either way. Returns the aspect and the findings to add.
 */
export function combineCorrespondence(clip: AspectResult, checks: RoundOutput | null, toAspect: (r: RoundOutput) => AspectResult): { aspect: AspectResult; findings: Finding[] } {
  if (checks === null) return { aspect: clip, findings: [] };
  const failed = checks.mos < ALL_PASS_MOS;
  if (clip.mos === null) return { aspect: toAspect(checks), findings: checks.findings };
  if (!failed || checks.mos >= clip.mos) return { aspect: clip, findings: checks.findings };
  return { aspect: toAspect(checks), findings: checks.findings };
}
