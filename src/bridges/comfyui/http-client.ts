// ComfyUI's HTTP routes the bridge uses: /history, /history/{id}, /view, /prompt, /queue, and the node
// pack's /agiqa/verdict. Every failure becomes an AGQ_ERR_COMFYUI_* error; nothing is retried here
// (the watcher decides what to retry).
import { agiqaError, isAgiqaError, type AgiqaError } from '../../errors/index.js';
import { historyEntrySchema, historySchema, postPromptOkSchema, type HistoryEntry, type ImageRef } from './protocol.js';

export interface ComfyHttpOptions {
  /** Per-request timeout; /view of a large image and /history of many prompts stay well under it. */
  timeoutMs?: number;
}

/** Validates a ComfyUI address and returns its origin (the instance key of the cursor). */
export function normaliseComfyUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw agiqaError('AGQ_ERR_COMFYUI_URL_INVALID', { url, detail: 'not a URL' });
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw agiqaError('AGQ_ERR_COMFYUI_URL_INVALID', { url, detail: `expected http: or https:, received ${parsed.protocol}` });
  }
  if (parsed.pathname !== '/' || parsed.search !== '' || parsed.hash !== '') {
    throw agiqaError('AGQ_ERR_COMFYUI_URL_INVALID', { url, detail: 'the address must not have a path, query or fragment' });
  }
  return parsed.origin;
}

/** True for errors worth retrying later: ComfyUI down, restarting or overloaded (not a 4xx). */
export function isTransient(error: unknown): boolean {
  if (!isAgiqaError(error)) return false;
  if (error.code === 'AGQ_ERR_COMFYUI_UNREACHABLE' || error.code === 'AGQ_ERR_QUEUE_FULL') return true;
  if (error.code === 'AGQ_ERR_COMFYUI_HTTP') return ((error.details as { status?: number } | undefined)?.status ?? 500) >= 500;
  return error.code.startsWith('AGQ_ERR_STORE_');
}

export class ComfyHttp {
  readonly url: string;
  private readonly timeoutMs: number;

  constructor(url: string, options: ComfyHttpOptions = {}) {
    this.url = normaliseComfyUrl(url);
    this.timeoutMs = options.timeoutMs ?? 10_000;
  }

  private async request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Response> {
    let response: Response;
    try {
      response = await fetch(`${this.url}${path}`, {
        method,
        headers: body === undefined ? {} : { 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (cause) {
      const detail = cause instanceof Error ? ((cause.cause as Error | undefined)?.message ?? cause.message) : String(cause);
      throw agiqaError('AGQ_ERR_COMFYUI_UNREACHABLE', { url: this.url, path, detail }, { cause });
    }
    return response;
  }

  private async fail(method: string, path: string, response: Response): Promise<AgiqaError> {
    const text = (await response.text().catch(() => '')).slice(0, 500);
    return agiqaError('AGQ_ERR_COMFYUI_HTTP', { url: this.url, method, path, status: response.status, body: text }, { details: { status: response.status } });
  }

  private async json(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
    const response = await this.request(method, path, body);
    if (!response.ok) throw await this.fail(method, path, response);
    try {
      return await response.json();
    } catch (cause) {
      throw agiqaError('AGQ_ERR_COMFYUI_BAD_RESPONSE', { url: this.url, path, issues: ['the body is not JSON'] }, { cause });
    }
  }

  /**
   * The last `maxItems` finished prompts, oldest first, as ComfyUI keeps them. Entries whose shape is not
   * understood are returned in `invalid` rather than failing the whole page.
   */
  async history(maxItems: number): Promise<{ entries: Map<string, HistoryEntry>; invalid: { promptId: string; problem: string }[] }> {
    const path = `/history?max_items=${maxItems}`;
    return this.parseHistory(path, await this.json('GET', path));
  }

  /** One prompt's history entry, or null when ComfyUI does not know it (it answers `{}`). */
  async historyOf(promptId: string): Promise<HistoryEntry | null> {
    const path = `/history/${encodeURIComponent(promptId)}`;
    const { entries, invalid } = this.parseHistory(path, await this.json('GET', path));
    if (invalid.length > 0) throw agiqaError('AGQ_ERR_COMFYUI_BAD_RESPONSE', { url: this.url, path, issues: invalid.map((i) => i.problem) });
    return entries.get(promptId) ?? null;
  }

  private parseHistory(path: string, body: unknown): { entries: Map<string, HistoryEntry>; invalid: { promptId: string; problem: string }[] } {
    const page = historySchema.safeParse(body);
    if (!page.success) throw agiqaError('AGQ_ERR_COMFYUI_BAD_RESPONSE', { url: this.url, path, issues: ['expected an object of prompt_id → entry'] });
    const entries = new Map<string, HistoryEntry>();
    const invalid: { promptId: string; problem: string }[] = [];
    for (const [promptId, raw] of Object.entries(page.data)) {
      const entry = historyEntrySchema.safeParse(raw);
      if (entry.success) entries.set(promptId, entry.data);
      else invalid.push({ promptId, problem: `${promptId}: ${entry.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}` });
    }
    return { entries, invalid };
  }

  /** The bytes of an output image; AGQ_ERR_COMFYUI_IMAGE_MISSING when ComfyUI answers 404. */
  async view(image: ImageRef, ids: { promptId: string; node: string }): Promise<Uint8Array> {
    const query = new URLSearchParams({ filename: image.filename, subfolder: image.subfolder, type: image.type });
    const path = `/view?${query.toString()}`;
    const response = await this.request('GET', path);
    if (response.status === 404) {
      await response.body?.cancel();
      throw agiqaError('AGQ_ERR_COMFYUI_IMAGE_MISSING', { url: this.url, promptId: ids.promptId, node: ids.node, filename: image.filename, subfolder: image.subfolder, type: image.type });
    }
    if (!response.ok) throw await this.fail('GET', path, response);
    return new Uint8Array(await response.arrayBuffer());
  }

  /**
   * Queues a graph under `clientId` with the prompt_id we chose (ComfyUI accepts one), so the caller can
   * record it before the prompt can finish. A 400 (invalid graph) or 500 throws AGQ_ERR_COMFYUI_HTTP.
   */
  async queuePromptWithId(graph: Record<string, unknown>, clientId: string, promptId: string, extraData: Record<string, unknown> = {}): Promise<{ promptId: string; number: number }> {
    const body = await this.json('POST', '/prompt', { prompt: graph, client_id: clientId, prompt_id: promptId, extra_data: extraData });
    const parsed = postPromptOkSchema.safeParse(body);
    if (!parsed.success) throw agiqaError('AGQ_ERR_COMFYUI_BAD_RESPONSE', { url: this.url, path: '/prompt', issues: ['expected {prompt_id, number}'] });
    return { promptId: parsed.data.prompt_id, number: parsed.data.number };
  }

  /**
   * Posts a verdict to the node pack's route. Returns false when the route does not exist (404: the
   * node pack is not installed); throws on other failures.
   */
  async pushVerdict(payload: Record<string, unknown>): Promise<boolean> {
    const response = await this.request('POST', '/agiqa/verdict', payload);
    if (response.status === 404) {
      await response.body?.cancel();
      return false;
    }
    if (!response.ok) throw await this.fail('POST', '/agiqa/verdict', response);
    await response.body?.cancel();
    return true;
  }
}
