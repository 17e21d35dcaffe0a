// The page's side of the HTTP API: relative URLs only (the page may live under a reverse proxy's
// sub-path), the bearer token when the server wants one, and the event stream with resume.
// The wire types come from the server's own modules (type-only: nothing of them reaches the bundle), so
// a field the server adds or renames fails this page's typecheck instead of drifting apart.
import type { PromptView } from '../../../src/server/dashboard-schemas.js';
import type { Settings } from '../../../src/config/settings.js';
export type { FeedItem } from '../../../src/store/dashboard-queries.js';
export type { Verdict } from '../../../src/policy/index.js';
export type { Aspect, DetectionResult as Detection } from '../../../src/scoring/score-result.js';
export type { PromptView };
export type DiffPart = PromptView['changes'][number]['prompt'][number];
export type { Settings };
export type ComfyTarget = Settings['comfyui'][number];

export const ASPECTS = ['quality', 'correspondence', 'authenticity'] as const;
export const LEVELS = ['bad', 'poor', 'fair', 'good', 'excellent'];

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const TOKEN_KEY = 'agiqa.token';

export function token(): string | null {
  return localStorage.getItem(TOKEN_KEY);
}

export function setToken(value: string | null): void {
  if (value) localStorage.setItem(TOKEN_KEY, value);
  else localStorage.removeItem(TOKEN_KEY);
}

function headers(extra: Record<string, string> = {}): Record<string, string> {
  const bearer = token();
  return bearer ? { ...extra, Authorization: `Bearer ${bearer}` } : extra;
}

/** Calls a route relative to the page; throws ApiError with the server's code and message. */
export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const response = await fetch(path, {
    method: init.method ?? 'GET',
    headers: headers(init.body === undefined ? {} : { 'Content-Type': 'application/json' }),
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  const body = (await response.json().catch(() => null)) as { error?: { code: string; message: string } } | null;
  if (!response.ok) throw new ApiError(response.status, body?.error?.code ?? 'HTTP', body?.error?.message ?? `HTTP ${response.status}`);
  return body as T;
}

const blobUrls = new Map<string, Promise<string>>();

/** The thumbnail's URL; with a token the image is fetched with it (an <img> cannot send headers). */
export function thumbnailUrl(sha256: string): Promise<string> {
  const path = `v1/thumbnails/${sha256}`;
  if (!token()) return Promise.resolve(path);
  let url = blobUrls.get(sha256);
  if (url === undefined) {
    url = fetch(path, { headers: headers() }).then(async (response) => (response.ok ? URL.createObjectURL(await response.blob()) : ''));
    blobUrls.set(sha256, url);
  }
  return url;
}

export interface StreamEvent {
  id?: number;
  type: string;
  lastId?: number;
  data?: Record<string, unknown>;
}

/**
 * The live event stream: reconnects after a drop with ?since=<last id seen>, so nothing stored in
 * between is missed. `onEvent` sees every message, including `stream.ready`.
 */
export class EventStream {
  private lastId: number | null = null;
  private socket: WebSocket | null = null;
  private stopped = false;

  constructor(
    private readonly onEvent: (event: StreamEvent) => void,
    private readonly onState: (state: 'live' | 'reconnecting') => void,
  ) {}

  start(): void {
    const url = new URL('v1/events', location.href);
    url.protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
    url.hash = '';
    if (this.lastId !== null) url.searchParams.set('since', String(this.lastId));
    const bearer = token();
    if (bearer) url.searchParams.set('token', bearer);
    const socket = new WebSocket(url);
    this.socket = socket;
    socket.onmessage = (message) => {
      const event = JSON.parse(String(message.data)) as StreamEvent;
      if (typeof event.id === 'number') this.lastId = Math.max(this.lastId ?? 0, event.id);
      if (event.type === 'stream.ready') {
        // Without ?since the server does not know a cursor (lastId 0); the page reloads its view on
        // every (re)connect, so nothing is lost before the first event gives one.
        if (this.lastId === null && typeof event.lastId === 'number' && event.lastId > 0) this.lastId = event.lastId;
        this.onState('live');
      }
      this.onEvent(event);
    };
    socket.onclose = () => {
      if (this.stopped) return;
      this.onState('reconnecting');
      setTimeout(() => this.start(), 1_000);
    };
  }

  /** Drops the connection as a network failure would (the page's "reconnect" tests use it). */
  drop(): void {
    this.socket?.close();
  }
}
