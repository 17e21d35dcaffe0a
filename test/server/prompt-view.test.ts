// The prompt-iteration summary: best attempt (accepted first), findings in more than one attempt,
// and per step the prompt's word diff, the changed settings and the MOS gained.
import { describe, expect, it } from 'vitest';
import { buildPromptView } from '../../src/server/prompt-view.js';
import type { FeedItem } from '../../src/store/index.js';

function attempt(id: number, mos: number, overrides: Partial<FeedItem> = {}): FeedItem {
  return {
    id, createdAt: '2026-12-01T00:00:00.000Z', source: 'api', external: { promptId: null, node: null, filename: null }, prompt: 'a red car', negativePrompt: null,
    promptKey: 'a red car', image: { sha256: 'x', width: 1, height: 1, file: null }, parentId: null, childIds: [], pack: { name: 'lite', version: '1' }, mos, level: 'fair',
    verdict: { verdict: mos >= 2.5 ? 'accept' : 'reject', reasons: [], notJudged: [] }, aspects: { quality: { mos, level: 'fair' }, correspondence: null, authenticity: null }, findings: [], params: null, detections: [],
    ...overrides,
  };
}

describe('buildPromptView', () => {
  it('names the best accepted attempt, else the best of all', () => {
    expect(buildPromptView('k', [attempt(1, 2.6), attempt(2, 4), attempt(3, 3)]).bestId).toBe(2);
    const rejectedBest = attempt(2, 4.5, { verdict: { verdict: 'reject', reasons: [], notJudged: [] } });
    expect(buildPromptView('k', [attempt(1, 2.6), rejectedBest]).bestId).toBe(1);
    expect(buildPromptView('k', [attempt(1, 1), attempt(2, 2)]).bestId).toBe(2);
    expect(buildPromptView('k', []).bestId).toBeNull();
  });

  const major = (text: string) => ({ text, severity: 'major' as const });
  const minor = (text: string) => ({ text, severity: 'minor' as const });
  const info = (text: string) => ({ text, severity: 'info' as const });

  it('counts each problem once per attempt and lists the recurring ones, most frequent first', () => {
    const view = buildPromptView('k', [
      attempt(1, 1, { findings: [major('strong blur'), major('strong blur'), minor('JPEG blocking'), info('the object check passes (a cat)')] }),
      attempt(2, 1, { findings: [major('strong blur'), info('the object check passes (a cat)')] }),
      attempt(3, 1, { findings: [major('strong blur'), minor('JPEG blocking')] }),
      attempt(4, 1, { findings: [minor('colour cast')] }),
    ]);
    // A check that passes in several attempts is reported on each card, never as a recurring problem.
    expect(view.recurringFindings).toEqual([{ text: 'strong blur', count: 3, of: 4 }, { text: 'JPEG blocking', count: 2, of: 4 }]);
  });

  it('says what changed between consecutive attempts and how the MOS moved', () => {
    const view = buildPromptView('k', [
      attempt(1, 1.5, { prompt: 'a (red:1.2) car', params: { seed: 1, steps: 20, sampler: 'euler' } }),
      attempt(2, 3.25, { prompt: 'a red car, studio light', negativePrompt: 'blurry', params: { seed: 2, steps: 20, sampler: 'euler' } }),
    ]);
    const change = view.changes[0]!;
    expect(change).toMatchObject({ from: 1, to: 2, mosDelta: 1.75, params: { seed: { from: 1, to: 2 } } });
    expect(Object.keys(change.params)).toEqual(['seed']);
    expect(change.prompt.filter((part) => part.op === 'added').map((part) => part.text).join('')).toContain('studio light');
    expect(change.negativePrompt).toEqual([{ op: 'added', text: 'blurry' }]);
  });
});
