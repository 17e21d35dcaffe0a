// Verdict policy: thresholds, ranking rules and the regeneration budget (pure functions).
export { judge, rank, regenerationBudget, verdictSchema, verdictReasonSchema, type Verdict, type VerdictReason, type Policy, type Thresholds, type Judgeable, type RankOutcome, type RegenerationDecision } from './verdict.js';
