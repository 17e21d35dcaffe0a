// The prompt view: every attempt at one prompt, a chart of each aspect across attempts (uPlot), the
// best image so far, the findings that keep coming back, and what changed from one attempt to the next.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { api, ASPECTS, type DiffPart, type FeedItem, type PromptView } from './api.js';
import { aspectBars, boxesOverlay, thumbnail, verdictBadge } from './card.js';
import { formatMos, h, timeAgo } from './dom.js';

const SERIES: { key: 'mos' | (typeof ASPECTS)[number]; label: string; colour: string }[] = [
  { key: 'mos', label: 'MOS', colour: '#222' },
  { key: 'quality', label: 'quality', colour: '#1e88e5' },
  { key: 'correspondence', label: 'correspondence', colour: '#8e24aa' },
  { key: 'authenticity', label: 'authenticity', colour: '#43a047' },
];

/** The chart's data: x = attempt number, one row per series (null where the pack did not judge). */
export function chartData(attempts: FeedItem[]): (number | null)[][] {
  const x = attempts.map((_, index) => index + 1);
  return [x, ...SERIES.map((series) => attempts.map((attempt) => (series.key === 'mos' ? attempt.mos : (attempt.aspects[series.key]?.mos ?? null))))];
}

function chart(attempts: FeedItem[]): HTMLElement {
  const data = chartData(attempts);
  const holder = h('div', { class: 'chart', id: 'aspect-chart', 'data-points': JSON.stringify(data) });
  const width = Math.min(640, Math.max(320, document.documentElement.clientWidth - 380));
  // Series no attempt has a value for (e.g. correspondence with the lite pack) are left out of the chart.
  const kept = SERIES.map((series, index) => ({ series, row: data[index + 1]! })).filter(({ row }) => row.some((value) => value !== null));
  requestAnimationFrame(() => {
    new uPlot(
      {
        width,
        height: 240,
        scales: { x: { time: false }, y: { range: [0, 5] } },
        axes: [{ label: 'attempt', values: (_u, ticks) => ticks.map((tick) => (Number.isInteger(tick) ? String(tick) : '')) }, { label: 'MOS (0–5)' }],
        legend: { live: false },
        series: [{ label: 'attempt' }, ...kept.map(({ series }) => ({ label: series.label, stroke: series.colour, width: series.key === 'mos' ? 2.5 : 1.5, points: { size: 7 }, spanGaps: true }))],
      },
      [data[0]!, ...kept.map(({ row }) => row)] as uPlot.AlignedData,
      holder,
    );
  });
  return holder;
}

function diff(parts: DiffPart[]): HTMLElement {
  return h('span', { class: 'diff' }, parts.map((part) => (part.op === 'added' ? h('ins', {}, part.text) : part.op === 'removed' ? h('del', {}, part.text) : part.text)));
}

function paramsText(item: FeedItem): string {
  const p = item.params;
  if (!p) return '—';
  return [p.seed !== undefined ? `seed ${p.seed}` : '', p.sampler ?? '', p.scheduler ?? '', p.steps !== undefined ? `${p.steps} steps` : '', p.cfg !== undefined ? `cfg ${p.cfg}` : ''].filter(Boolean).join(' · ');
}

function changeCell(view: PromptView, attempt: FeedItem): HTMLElement {
  const change = view.changes.find((entry) => entry.to === attempt.id);
  if (!change) return h('td', { class: 'muted' }, 'first attempt');
  const samePrompt = change.prompt.every((part) => part.op === 'same');
  const sameNegative = change.negativePrompt.every((part) => part.op === 'same');
  const params = Object.entries(change.params).map(([key, value]) => `${key} ${value.from ?? '—'} → ${value.to ?? '—'}`);
  return h(
    'td',
    { class: 'change' },
    h('span', { class: `delta ${change.mosDelta > 0 ? 'up' : change.mosDelta < 0 ? 'down' : ''}` }, `${change.mosDelta > 0 ? '+' : ''}${change.mosDelta.toFixed(2)}`),
    samePrompt ? null : h('div', {}, 'prompt: ', diff(change.prompt)),
    sameNegative ? null : h('div', {}, 'negative: ', diff(change.negativePrompt)),
    params.length > 0 ? h('div', { class: 'params-changed' }, params.join(', ')) : null,
    samePrompt && sameNegative && params.length === 0 ? h('div', { class: 'muted' }, 'nothing recorded changed') : null,
  );
}

export async function promptView(id: number): Promise<HTMLElement> {
  const view = await api<PromptView>(`v1/prompts/${id}`);
  const best = view.attempts.find((attempt) => attempt.id === view.bestId) ?? null;
  const latest = view.attempts[view.attempts.length - 1];
  return h(
    'section',
    { class: 'prompt-view', 'data-attempts': view.attempts.length },
    h('p', {}, h('a', { href: '#/' }, '← feed')),
    h('h1', {}, latest?.prompt ?? '(no prompt)'),
    h('p', { class: 'muted' }, `${view.attempts.length} attempt${view.attempts.length === 1 ? '' : 's'} · normalised prompt “${view.promptKey}”`),
    h(
      'div',
      { class: 'prompt-top' },
      best
        ? h('figure', { class: 'best', 'data-id': best.id }, h('span', { class: 'thumb-frame large' }, thumbnail(best.image.sha256, 'best attempt', 'thumb large'), boxesOverlay(best.detections ?? [], best.image.width, best.image.height)), h('figcaption', {}, `best so far: #${best.id}, MOS ${formatMos(best.mos)} `, verdictBadge(best)))
        : null,
      h(
        'div',
        {},
        chart(view.attempts),
        h('h2', {}, 'Problems that keep coming back'),
        view.recurringFindings.length === 0
          ? h('p', { class: 'muted' }, 'none in more than one attempt')
          : h('ul', { class: 'recurring' }, view.recurringFindings.map((finding) => h('li', {}, `“${finding.text}” in ${finding.count} of ${finding.of}`))),
      ),
    ),
    h('h2', {}, 'Attempts'),
    h(
      'table',
      { class: 'attempts' },
      h('thead', {}, h('tr', {}, ['#', 'image', 'MOS', 'aspects', 'settings', 'what changed'].map((title) => h('th', {}, title)))),
      h(
        'tbody',
        {},
        view.attempts.map((attempt, index) =>
          h(
            'tr',
            { 'data-id': attempt.id, class: attempt.id === view.bestId ? 'is-best' : '' },
            h('td', {}, `${index + 1}`, h('br'), h('span', { class: 'muted' }, `#${attempt.id}`), h('br'), h('time', { class: 'muted', datetime: attempt.createdAt }, timeAgo(attempt.createdAt))),
            h('td', {}, thumbnail(attempt.image.sha256, `attempt ${index + 1}`, 'thumb small')),
            h('td', {}, h('strong', {}, formatMos(attempt.mos)), h('br'), verdictBadge(attempt)),
            h('td', {}, aspectBars(attempt), attempt.findings.length ? h('div', { class: 'muted' }, attempt.findings.map((finding) => finding.text).join(', ')) : null),
            h('td', {}, paramsText(attempt)),
            changeCell(view, attempt),
          ),
        ),
      ),
    ),
  );
}
