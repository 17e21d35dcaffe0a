// The one result type used everywhere (CLI, server, bridges, plugins): overall MOS, the three
// aspects with level probabilities, findings, and where the numbers came from.
import { z } from 'zod';
import { ASPECTS, LEVELS, type Level } from '../model/aspects.js';

export { ASPECTS, LEVELS, type Aspect, type Level } from '../model/aspects.js';

export const MOS_MIN = 0;
export const MOS_MAX = 5;

/** Maps a MOS on 0–5 to its level word; values outside the scale are clamped onto it. */
export function levelOfMos(mos: number): Level {
  const index = Math.min(LEVELS.length - 1, Math.max(0, Math.floor(mos)));
  return LEVELS[index]!;
}

export const levelProbabilitiesSchema = z
  .object({ bad: z.number(), poor: z.number(), fair: z.number(), good: z.number(), excellent: z.number() })
  .strict();
export type LevelProbabilities = z.infer<typeof levelProbabilitiesSchema>;

export const aspectScoreSchema = z
  .object({
    mos: z.number().min(MOS_MIN).max(MOS_MAX),
    level: z.enum(LEVELS),
    probabilities: levelProbabilitiesSchema,
  })
  .strict();
export type AspectScore = z.infer<typeof aspectScoreSchema>;

/** An aspect the pack did not judge: never a made-up number, always a reason the user can act on. */
export const aspectNotJudgedSchema = z.object({ mos: z.null(), reason: z.string() }).strict();
export type AspectNotJudged = z.infer<typeof aspectNotJudgedSchema>;

export const aspectResultSchema = z.union([aspectScoreSchema, aspectNotJudgedSchema]);
export type AspectResult = z.infer<typeof aspectResultSchema>;

export const findingSchema = z
  .object({
    aspect: z.enum(ASPECTS),
    /** Stable machine-readable id, e.g. `blur`, `clipped-highlights`. */
    code: z.string(),
    /** A short human sentence, e.g. "strong blur" or "blown highlights (12% clipped)". */
    text: z.string(),
    severity: z.enum(['info', 'minor', 'major']),
  })
  .strict();
export type Finding = z.infer<typeof findingSchema>;

/** One object the pack's detector saw: its COCO class, confidence and box in the image's pixels. */
export const detectionSchema = z
  .object({
    label: z.string(),
    score: z.number().min(0).max(1),
    box: z.object({ x: z.number(), y: z.number(), width: z.number(), height: z.number() }).strict(),
  })
  .strict();
export type DetectionResult = z.infer<typeof detectionSchema>;

const judgedAspectDetailSchema = z
  .object({
    /** Round 1's answer in full (its first sentence is the aspect's finding). */
    description: z.string().nullable(),
    /** Round 2's answer as the server wrote it. */
    answer: z.string().nullable(),
    /** 'word-only': the server gave no log-probabilities, the level is the word alone. */
    flags: z.array(z.enum(['word-only'])),
    /** Probability mass the five level words held before renormalising (null when not judged). */
    levelMass: z.number().nullable(),
    ms: z.number(),
  })
  .strict();

/** Present when a judge (a multimodal model server) answered, or when a cascade decided. */
export const judgeDetailSchema = z
  .object({
    pack: z.string(),
    model: z.string(),
    aspects: z.object({ quality: judgedAspectDetailSchema, correspondence: judgedAspectDetailSchema, authenticity: judgedAspectDetailSchema }).partial().strict(),
    /** How a cascade reached this verdict; absent when the judge pack scored alone. */
    cascade: z
      .object({
        decidedBy: z.enum(['judge', 'fast']),
        /** band: near the threshold; flat: level distribution too even; clear: neither (judge not asked); deadline / judge-error: the judge did not answer in time or failed. */
        reason: z.enum(['band', 'flat', 'clear', 'deadline', 'judge-error']),
        fast: z.object({ pack: z.string(), version: z.string(), mos: z.number() }).strict(),
        detail: z.string().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();
export type JudgeDetail = z.infer<typeof judgeDetailSchema>;

/**
 * The finding that says why an image's embedded prompt was not read (its metadata ran over a reader's
 * budget), so a null prompt is explained; none when the caller gave the prompt or nothing went wrong.
 */
export function promptProblemFindings(givenPrompt: string | undefined, problem: string | null): Finding[] {
  if (givenPrompt !== undefined || problem === null) return [];
  return [{ aspect: 'correspondence', code: 'prompt-not-read', text: `embedded prompt not read: ${problem}`, severity: 'info' }];
}

export const scoreResultSchema = z
  .object({
    /** Overall MOS on 0–5 over the aspects the pack judged. */
    mos: z.number().min(MOS_MIN).max(MOS_MAX),
    level: z.enum(LEVELS),
    aspects: z
      .object({ quality: aspectResultSchema, correspondence: aspectResultSchema, authenticity: aspectResultSchema })
      .strict(),
    findings: z.array(findingSchema),
    prompt: z
      .object({ text: z.string().nullable(), source: z.enum(['argument', 'embedded', 'none']) })
      .strict(),
    image: z
      .object({ width: z.number().int(), height: z.number().int(), format: z.string(), sha256: z.string() })
      .strict(),
    pack: z.object({ name: z.string(), version: z.string() }).strict(),
    /** The detector's boxes (best first), when the pack has a detector and it ran for this image. */
    detections: z.array(detectionSchema).optional(),
    /** Milliseconds spent in each stage of this score. */
    timings: z
      .object({ decodeMs: z.number(), signalsMs: z.number(), modelMs: z.number(), detectorMs: z.number().optional(), totalMs: z.number() })
      .strict(),
    judge: judgeDetailSchema.optional(),
  })
  .strict();
export type ScoreResult = z.infer<typeof scoreResultSchema>;
