// Verdicts from scores: per-aspect and overall thresholds, top-k and keep-at-least-N over a batch,
// and the regeneration budget. Pure functions: no I/O, no clock, so every rule is testable alone.
import { z } from 'zod';
import { ASPECTS, type Aspect, type ScoreResult } from '../scoring/score-result.js';

export const verdictReasonSchema = z
  .object({
    code: z.enum(['meets-thresholds', 'below-threshold', 'outside-top-k', 'kept-at-least']),
    /** `overall` for the overall MOS; absent for batch rules. */
    aspect: z.enum([...ASPECTS, 'overall']).optional(),
    mos: z.number().optional(),
    threshold: z.number().optional(),
    text: z.string(),
  })
  .strict();
export type VerdictReason = z.infer<typeof verdictReasonSchema>;

export const verdictSchema = z
  .object({
    verdict: z.enum(['accept', 'reject']),
    reasons: z.array(verdictReasonSchema),
    /** Aspects that had a threshold but that the pack did not judge: skipped, never failed. */
    notJudged: z.array(z.enum(ASPECTS)),
  })
  .strict();
export type Verdict = z.infer<typeof verdictSchema>;

export interface Thresholds {
  overall?: number | undefined;
  quality?: number | undefined;
  correspondence?: number | undefined;
  authenticity?: number | undefined;
}

export interface Policy {
  thresholds: Thresholds;
  topK?: number | undefined;
  keepAtLeast?: number | undefined;
  maxRegenerations?: number | undefined;
}

/** The parts of a score result a verdict depends on. */
export type Judgeable = Pick<ScoreResult, 'mos' | 'aspects'>;

const fmt = (value: number): string => value.toFixed(2);

/** Judges one result against the thresholds; an aspect whose `mos` is null is skipped, not failed. */
export function judge(result: Judgeable, policy: Policy): Verdict {
  const reasons: VerdictReason[] = [];
  const notJudged: Aspect[] = [];
  const { overall } = policy.thresholds;
  if (overall !== undefined && result.mos < overall) {
    reasons.push({ code: 'below-threshold', aspect: 'overall', mos: result.mos, threshold: overall, text: `overall ${fmt(result.mos)} < ${fmt(overall)}` });
  }
  for (const aspect of ASPECTS) {
    const threshold = policy.thresholds[aspect];
    if (threshold === undefined) continue;
    const mos = result.aspects[aspect].mos;
    if (mos === null) {
      notJudged.push(aspect);
      continue;
    }
    if (mos < threshold) {
      reasons.push({ code: 'below-threshold', aspect, mos, threshold, text: `${aspect} ${fmt(mos)} < ${fmt(threshold)}` });
    }
  }
  if (reasons.length > 0) return { verdict: 'reject', reasons, notJudged };
  return { verdict: 'accept', reasons: [{ code: 'meets-thresholds', text: `overall ${fmt(result.mos)} meets every threshold` }], notJudged };
}

export interface RankOutcome {
  /** Indices into the input, best overall MOS first (ties keep input order). */
  order: number[];
  /** The first `topK` of `order` (all of it when no top-k applies). */
  topK: number[];
  /** Verdict per input index, after the batch rules. */
  verdicts: Verdict[];
  /** Indices accepted, in rank order. */
  passing: number[];
}

/**
 * Judges a batch that shares a prompt: thresholds first, then only the best `topK` may pass, then the
 * best `keepAtLeast` are accepted even below threshold (a floor wins over top-k: the caller asked to keep N).
 */
export function rank(results: Judgeable[], policy: Policy): RankOutcome {
  const order = results.map((_, index) => index).sort((a, b) => results[b]!.mos - results[a]!.mos || a - b);
  const topK = policy.topK === undefined ? order : order.slice(0, policy.topK);
  const inTopK = new Set(topK);
  const verdicts = results.map((result) => judge(result, policy));
  order.forEach((index, position) => {
    const verdict = verdicts[index]!;
    if (verdict.verdict === 'accept' && !inTopK.has(index)) {
      verdicts[index] = {
        verdict: 'reject',
        reasons: [{ code: 'outside-top-k', text: `rank ${position + 1} is outside the top ${policy.topK}` }],
        notJudged: verdict.notJudged,
      };
    }
  });
  const floor = Math.min(policy.keepAtLeast ?? 0, results.length);
  let accepted = verdicts.filter((verdict) => verdict.verdict === 'accept').length;
  for (const [position, index] of order.entries()) {
    if (accepted >= floor) break;
    const verdict = verdicts[index]!;
    if (verdict.verdict === 'accept') continue;
    verdicts[index] = {
      verdict: 'accept',
      reasons: [...verdict.reasons, { code: 'kept-at-least', text: `kept as rank ${position + 1} to keep at least ${floor}` }],
      notJudged: verdict.notJudged,
    };
    accepted += 1;
  }
  const passing = order.filter((index) => verdicts[index]!.verdict === 'accept');
  return { order, topK, verdicts, passing };
}

export interface RegenerationDecision {
  /** `keep`: accepted; `regenerate`: try again; `exhausted`: budget spent, keep the best attempt so far. */
  action: 'keep' | 'regenerate' | 'exhausted';
  /** Regenerations still allowed after this decision. */
  remaining: number;
}

/**
 * Whether a rejected generation should be regenerated: `regenerationsSoFar` counts the regenerations
 * already made for this prompt (0 for the first image).
 */
export function regenerationBudget(verdict: Pick<Verdict, 'verdict'>, regenerationsSoFar: number, maxRegenerations: number): RegenerationDecision {
  const left = Math.max(0, maxRegenerations - regenerationsSoFar);
  if (verdict.verdict === 'accept') return { action: 'keep', remaining: left };
  if (left === 0) return { action: 'exhausted', remaining: 0 };
  return { action: 'regenerate', remaining: left - 1 };
}
