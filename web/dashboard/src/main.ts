// The dashboard's entry: a hash router over three views (feed, prompt view, settings), the live
// event stream, and the token prompt when the server requires one.
import '../style.css';
import { ApiError, EventStream, setToken, token } from './api.js';
import { h } from './dom.js';
import { feedView, type FeedView } from './feed.js';
import { promptView } from './prompt-view.js';
import { settingsView } from './settings.js';

const main = document.getElementById('view')!;
const status = document.getElementById('status')!;
let feed: FeedView | null = null;
let currentPrompt: number | null = null;

function tokenForm(message: string): HTMLElement {
  const input = h('input', { type: 'password', name: 'token', placeholder: 'token', autocomplete: 'off' });
  return h(
    'form',
    { class: 'token', onsubmit: (event: Event) => {
      event.preventDefault();
      setToken(input.value.trim());
      location.reload();
    } },
    h('p', {}, message),
    input,
    h('button', { type: 'submit' }, 'Use token'),
  );
}

async function show(): Promise<void> {
  const hash = location.hash.replace(/^#/, '') || '/';
  const [path, query = ''] = hash.split('?');
  feed = null;
  currentPrompt = null;
  try {
    const prompt = /^\/prompt\/(\d+)$/.exec(path ?? '');
    if (prompt) {
      currentPrompt = Number(prompt[1]);
      main.replaceChildren(await promptView(currentPrompt));
    } else if (path === '/settings') {
      main.replaceChildren(await settingsView());
    } else {
      feed = feedView(new URLSearchParams(query), streamReady);
      main.replaceChildren(feed.element);
    }
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) main.replaceChildren(tokenForm(token() ? 'The token was refused; enter the server\'s token.' : 'This server requires its token (AGIQA_TOKEN).'));
    else main.replaceChildren(h('p', { class: 'message error' }, (error as Error).message));
  }
}

let promptTimer: number | undefined;
let markReady!: () => void;
/** Resolves when the stream is first attached: the feed's first query follows it, so nothing falls between. */
const streamReady = new Promise<void>((resolve) => (markReady = resolve));
let attached = false;
const stream = new EventStream(
  (event) => {
    if (event.type === 'stream.ready' && !attached) {
      attached = true;
      markReady();
      return;
    }
    // A reconnect (stream.ready again, after what was missed was replayed) or a new score or verdict.
    if (event.type === 'stream.ready' || event.type.startsWith('generation.')) {
      feed?.refresh();
      // A new attempt may belong to the prompt on screen: re-read it (cheap, debounced).
      if (currentPrompt !== null && event.type !== 'stream.ready') {
        clearTimeout(promptTimer);
        const id = currentPrompt;
        promptTimer = window.setTimeout(() => void promptView(id).then((view) => currentPrompt === id && main.replaceChildren(view)), 300);
      }
    }
  },
  (state) => {
    status.textContent = state === 'live' ? 'live' : 'reconnecting…';
    status.className = `status ${state}`;
  },
);
(window as unknown as { agiqaStream: EventStream }).agiqaStream = stream;

window.addEventListener('hashchange', () => void show());
stream.start();
void show();
