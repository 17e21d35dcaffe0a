// One generation as a card: thumbnail, MOS, verdict, per-aspect bars, findings, source, pack, lineage.
import { ASPECTS, thumbnailUrl, type Detection, type FeedItem } from './api.js';
import { formatMos, h, timeAgo } from './dom.js';

export function thumbnail(sha256: string, alt: string, className = 'thumb'): HTMLImageElement {
  const image = h('img', { class: className, alt, loading: 'lazy', width: 256, height: 256 });
  void thumbnailUrl(sha256).then((url) => {
    if (url) image.src = url;
  });
  // No thumbnail kept (skipped under load, or evicted): a plain placeholder instead of a broken image.
  image.addEventListener('error', () => image.classList.add('missing'));
  return image;
}

const SVG = 'http://www.w3.org/2000/svg';
/** Boxes below this confidence are not drawn: the object checks count from 0.25 (docs/object-checks.md). */
const DRAWN_SCORE = 0.25;

/**
 * The detector's boxes over a thumbnail: an SVG in the image's own pixel space, fitted like the image
 * (object-fit: contain ↔ preserveAspectRatio meet), so boxes land where they are whatever the card size.
 */
export function boxesOverlay(detections: readonly Detection[], width: number | null, height: number | null): SVGSVGElement | null {
  const shown = detections.filter((d) => d.score >= DRAWN_SCORE);
  if (shown.length === 0 || !width || !height) return null;
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('class', 'boxes');
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.setAttribute('preserveAspectRatio', 'xMidYMid meet');
  svg.setAttribute('aria-label', `${shown.length} object${shown.length > 1 ? 's' : ''} found`);
  const stroke = Math.max(width, height) / 160;
  for (const d of shown) {
    const group = document.createElementNS(SVG, 'g');
    group.setAttribute('class', 'box');
    group.setAttribute('data-label', d.label);
    const title = document.createElementNS(SVG, 'title');
    title.textContent = `${d.label} ${d.score.toFixed(2)}`;
    const rect = document.createElementNS(SVG, 'rect');
    for (const [name, value] of Object.entries({ x: d.box.x, y: d.box.y, width: d.box.width, height: d.box.height, 'stroke-width': stroke })) rect.setAttribute(name, String(value));
    const text = document.createElementNS(SVG, 'text');
    text.setAttribute('x', String(d.box.x + stroke));
    text.setAttribute('y', String(d.box.y + stroke * 9));
    text.setAttribute('font-size', String(stroke * 9)); // ~13 px on a card whatever the image's size
    text.textContent = d.label;
    group.append(title, rect, text);
    svg.append(group);
  }
  return svg;
}

export function verdictBadge(item: Pick<FeedItem, 'verdict'>): HTMLElement {
  const verdict = item.verdict?.verdict ?? 'none';
  return h('span', { class: `verdict ${verdict}`, 'data-verdict': verdict }, verdict === 'accept' ? 'accepted' : verdict === 'reject' ? 'rejected' : 'no verdict');
}

export function aspectBars(item: Pick<FeedItem, 'aspects'>): HTMLElement {
  return h(
    'div',
    { class: 'bars' },
    ASPECTS.map((aspect) => {
      const value = item.aspects[aspect];
      return h(
        'div',
        { class: 'bar', title: value ? `${aspect}: ${value.mos.toFixed(2)} (${value.level})` : `${aspect}: not judged by this pack`, 'data-aspect': aspect },
        h('span', { class: 'bar-name' }, aspect.slice(0, 4)),
        h('span', { class: 'bar-track' }, value ? h('span', { class: `bar-fill level-${value.level}`, style: `width:${(value.mos / 5) * 100}%` }) : null),
        h('span', { class: 'bar-value' }, value ? value.mos.toFixed(1) : '—'),
      );
    }),
  );
}

function sourceText(item: FeedItem): string {
  const parts = [item.source];
  if (item.external.promptId) parts.push(`prompt ${item.external.promptId.slice(0, 8)}`);
  if (item.external.node) parts.push(`node ${item.external.node}`);
  const file = item.external.filename ?? item.image.file;
  if (file) parts.push(file.split('/').pop()!);
  return parts.join(' · ');
}

export function feedCard(item: FeedItem): HTMLElement {
  const lineage: (HTMLElement | string)[] = [];
  if (item.parentId !== null) lineage.push(h('a', { href: `#/prompt/${item.parentId}`, class: 'lineage' }, `regenerates #${item.parentId}`));
  for (const child of item.childIds) lineage.push(h('a', { href: `#/prompt/${child}`, class: 'lineage' }, `regenerated as #${child}`));
  return h(
    'article',
    { class: `card ${item.verdict?.verdict ?? ''}`, 'data-id': item.id, 'data-mos': item.mos },
    h(
      'a',
      { href: `#/prompt/${item.id}`, title: 'prompt view: every attempt at this prompt', class: 'thumb-frame' },
      thumbnail(item.image.sha256, item.prompt ?? `generation ${item.id}`),
      boxesOverlay(item.detections ?? [], item.image.width, item.image.height),
    ),
    h('div', { class: 'card-head' }, h('span', { class: `mos level-${item.level}` }, formatMos(item.mos)), h('span', { class: 'level' }, item.level), verdictBadge(item)),
    aspectBars(item),
    item.findings.length > 0 ? h('ul', { class: 'findings' }, item.findings.map(({ text, severity }) => h('li', { class: `finding-${severity}` }, text))) : null,
    h('p', { class: 'prompt', title: item.prompt ?? '' }, item.prompt ?? h('span', { class: 'muted' }, 'no prompt')),
    h('p', { class: 'meta' }, h('span', { class: 'source' }, sourceText(item)), ' · ', h('span', { class: 'pack' }, `${item.pack.name} ${item.pack.version}`), ' · ', h('time', { datetime: item.createdAt }, timeAgo(item.createdAt))),
    h('p', { class: 'meta' }, h('a', { href: `#/prompt/${item.id}` }, `#${item.id} prompt view`), ...lineage.flatMap((link) => [' · ', link])),
  );
}
