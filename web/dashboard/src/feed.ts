// The live feed: filters in the URL hash, one page at a time, refreshed when the event stream reports
// a new score or verdict.
import { api, ASPECTS, LEVELS, type FeedItem } from './api.js';
import { feedCard } from './card.js';
import { h } from './dom.js';

const SORTS = ['newest', 'oldest', 'mos', ...ASPECTS];
const PAGE = 48;

export interface FeedView {
  element: HTMLElement;
  /** Something was stored: reload what is shown (debounced). */
  refresh(): void;
}

function select(name: string, options: string[], value: string | null, labels: Record<string, string> = {}): HTMLSelectElement {
  return h('select', { name, 'aria-label': name }, options.map((option) => h('option', { value: option, selected: option === (value ?? '') }, labels[option] ?? (option || `any ${name}`))));
}

function toLocalInput(iso: string | null): string {
  if (!iso) return '';
  const date = new Date(iso);
  return new Date(date.getTime() - date.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

/** What a card shows that can change: a card whose key is unchanged is kept (no flicker, no refetch). */
function cardKey(item: FeedItem): string {
  return `${item.id}|${item.verdict?.verdict ?? ''}|${item.mos}|${item.childIds.join(',')}`;
}

/**
 * The feed. `ready` resolves once the event stream is attached, so that nothing stored between the
 * first query and the subscription is missed (it is waited for at most briefly).
 */
export function feedView(params: URLSearchParams, ready: Promise<void>): FeedView {
  const form = h(
    'form',
    { class: 'filters' },
    select('verdict', ['', 'accept', 'reject'], params.get('verdict')),
    select('aspect', ['', ...ASPECTS], params.get('aspect')),
    select('level', ['', ...LEVELS], params.get('level')),
    h('input', { name: 'pack', placeholder: 'pack', value: params.get('pack') ?? '', size: 8 }),
    h('input', { name: 'source', placeholder: 'source', value: params.get('source') ?? '', size: 8 }),
    h('label', {}, 'from ', h('input', { type: 'datetime-local', name: 'from', value: toLocalInput(params.get('from')) })),
    h('label', {}, 'to ', h('input', { type: 'datetime-local', name: 'to', value: toLocalInput(params.get('to')) })),
    select('sort', SORTS, params.get('sort') ?? 'newest', { mos: 'MOS' }),
    select('order', ['desc', 'asc'], params.get('order') ?? 'desc', { desc: 'best first', asc: 'worst first' }),
  );
  const grid = h('div', { class: 'grid', id: 'feed' });
  const more = h('button', { type: 'button', class: 'more', hidden: true }, 'Load more');
  const note = h('p', { class: 'muted note' });
  let shown = PAGE;
  let nextOffset: number | null = null;

  const query = (offset: number, limit: number): string => {
    const out = new URLSearchParams();
    for (const [key, value] of params) if (value) out.set(key, value);
    // An aspect filter needs both halves; half of one filters nothing rather than failing.
    if (!out.has('aspect') || !out.has('level')) {
      out.delete('aspect');
      out.delete('level');
    }
    out.set('offset', String(offset));
    out.set('limit', String(limit));
    return out.toString();
  };

  const load = async () => {
    try {
      const page = await api<{ items: FeedItem[]; nextOffset: number | null }>(`v1/feed?${query(0, Math.min(shown, 200))}`);
      const previous = new Map([...grid.children].map((card) => [(card as HTMLElement).dataset.key ?? '', card as HTMLElement]));
      grid.replaceChildren(
        ...page.items.map((item) => {
          const key = cardKey(item);
          const card = previous.get(key) ?? feedCard(item);
          card.dataset.key = key;
          return card;
        }),
      );
      nextOffset = page.nextOffset;
      more.hidden = nextOffset === null;
      note.textContent = page.items.length === 0 ? 'Nothing scored matches yet. Score a folder: agiqa score --server <this address> folder/' : '';
    } catch (error) {
      note.textContent = (error as Error).message;
    }
  };

  form.addEventListener('change', () => {
    const next = new URLSearchParams();
    for (const [key, value] of new FormData(form)) {
      if (typeof value !== 'string' || value === '') continue;
      next.set(key, key === 'from' || key === 'to' ? new Date(value).toISOString() : value);
    }
    if (next.get('sort') === 'newest') next.delete('sort');
    if (next.get('order') === 'desc') next.delete('order');
    location.hash = `#/?${next}`;
  });
  more.addEventListener('click', async () => {
    if (nextOffset === null) return;
    const page = await api<{ items: FeedItem[]; nextOffset: number | null }>(`v1/feed?${query(nextOffset, PAGE)}`);
    grid.append(
      ...page.items.map((item) => {
        const card = feedCard(item);
        card.dataset.key = cardKey(item);
        return card;
      }),
    );
    shown += page.items.length;
    nextOffset = page.nextOffset;
    more.hidden = nextOffset === null;
  });

  let timer: number | undefined;
  void Promise.race([ready, new Promise((resolve) => setTimeout(resolve, 500))]).then(load);
  return {
    element: h('section', { class: 'feed' }, form, note, grid, more),
    refresh() {
      clearTimeout(timer);
      timer = window.setTimeout(() => void load(), 150);
    },
  };
}
