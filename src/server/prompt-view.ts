// The prompt-iteration summary of the attempts at one prompt: the best attempt, the findings that keep
// coming back, and what changed from each attempt to the next (a word diff of the prompts, the
// sampling settings that differ, the MOS it gained or lost). Pure: the route feeds it stored rows.
import { diffWords } from 'diff';
import type { FeedItem } from '../store/index.js';
import type { PromptView } from './dashboard-schemas.js';

type DiffPart = PromptView['changes'][number]['prompt'][number];

function wordDiff(before: string | null, after: string | null): DiffPart[] {
  return diffWords(before ?? '', after ?? '').map((part) => ({ op: part.added ? 'added' : part.removed ? 'removed' : 'same', text: part.value }));
}

const PARAM_KEYS = ['seed', 'sampler', 'scheduler', 'steps', 'cfg'] as const;

/** Builds the view; `attempts` oldest first. */
export function buildPromptView(promptKey: string, attempts: FeedItem[]): PromptView {
  const accepted = attempts.filter((attempt) => attempt.verdict?.verdict === 'accept');
  const pool = accepted.length > 0 ? accepted : attempts;
  const best = pool.reduce<FeedItem | null>((top, attempt) => (top === null || attempt.mos > top.mos ? attempt : top), null);

  const counts = new Map<string, number>();
  // Problems only: a check that passes in every attempt is not what keeps coming back.
  const problems = (attempt: FeedItem) => new Set(attempt.findings.filter((finding) => finding.severity !== 'info').map((finding) => finding.text));
  for (const attempt of attempts) for (const text of problems(attempt)) counts.set(text, (counts.get(text) ?? 0) + 1);
  const recurringFindings = [...counts]
    .filter(([, count]) => count > 1)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([text, count]) => ({ text, count, of: attempts.length }));

  const changes = attempts.slice(1).map((attempt, index) => {
    const previous = attempts[index]!;
    const params: PromptView['changes'][number]['params'] = {};
    for (const key of PARAM_KEYS) {
      const from = previous.params?.[key] ?? null;
      const to = attempt.params?.[key] ?? null;
      if (from !== to) params[key] = { from, to };
    }
    return {
      from: previous.id,
      to: attempt.id,
      prompt: wordDiff(previous.prompt, attempt.prompt),
      negativePrompt: wordDiff(previous.negativePrompt, attempt.negativePrompt),
      params,
      mosDelta: Math.round((attempt.mos - previous.mos) * 1000) / 1000,
    };
  });
  return { promptKey, attempts, bestId: best?.id ?? null, recurringFindings, changes };
}
