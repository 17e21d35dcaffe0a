// ComfyUI's HTTP routes the bridge uses: /history, /history/{id}, /view, /prompt, /queue, and the node
// pack's /agiqa/verdict. Every failure becomes an AGQ_ERR_COMFYUI_* error; nothing is retried here
// (the watcher decides what to retry).
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
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

interface Answer {
  status: number;
  body: Buffer;
}

/** Bodies larger than this are refused: no ComfyUI answer the bridge reads comes near it. */
const MAX_BODY_BYTES = 512 * 1024 * 1024;

export class ComfyHttp {
  readonly url: string;
  private readonly timeoutMs: number;
  // node:http rather than fetch: undici's stream plumbing cost ~8 ms of main-thread CPU per 800 KB
  // image in the benchmark, time taken from the scorer's workers on a small machine.
  private readonly agent: HttpAgent;

  constructor(url: string, options: ComfyHttpOptions = {}) {
    this.url = normaliseComfyUrl(url);
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.agent = this.url.startsWith('https:') ? new HttpsAgent({ keepAlive: true, maxSockets: 16 }) : new HttpAgent({ keepAlive: true, maxSockets: 16 });
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    this.agent.destroy();
  }

  private request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Answer> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise<Answer>((resolve, reject) => {
      const unreachable = (cause: unknown) => {
        const detail = (cause as NodeJS.ErrnoException | null)?.code ?? (cause instanceof Error ? cause.message : String(cause));
        reject(agiqaError('AGQ_ERR_COMFYUI_UNREACHABLE', { url: this.url, path, detail }, { cause }));
      };
      const send = this.url.startsWith('https:') ? httpsRequest : httpRequest;
      const request = send(
        `${this.url}${path}`,
        { method, agent: this.agent, headers: payload === undefined ? {} : { 'content-type': 'application/json', 'content-length': payload.length } },
        (response) => {
          const chunks: Buffer[] = [];
          let size = 0;
          response.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_BODY_BYTES) request.destroy(new Error(`the answer is larger than ${MAX_BODY_BYTES} bytes`));
            else chunks.push(chunk);
          });
          response.on('end', () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks, size) }));
          response.on('error', unreachable);
        },
      );
      request.setTimeout(this.timeoutMs, () => request.destroy(new Error(`no answer within ${this.timeoutMs} ms`)));
      request.on('error', unreachable);
      request.end(payload);
    });
  }

  private fail(method: string, path: string, answer: Answer): AgiqaError {
    const text = answer.body.subarray(0, 500).toString('utf8');
    return agiqaError('AGQ_ERR_COMFYUI_HTTP', { url: this.url, method, path, status: answer.status, body: text }, { details: { status: answer.status } });
  }

  private async json(method: 'GET' | 'POST', path: string, body?: unknown): Promise<unknown> {
    const answer = await this.request(method, path, body);
    if (answer.status < 200 || answer.status >= 300) throw this.fail(method, path, answer);
    try {
      return JSON.parse(answer.body.toString('utf8'));
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
    const answer = await this.request('GET', path);
    if (answer.status === 404) {
      throw agiqaError('AGQ_ERR_COMFYUI_IMAGE_MISSING', { url: this.url, promptId: ids.promptId, node: ids.node, filename: image.filename, subfolder: image.subfolder, type: image.type });
    }
    if (answer.status < 200 || answer.status >= 300) throw this.fail('GET', path, answer);
    return answer.body;
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
    const answer = await this.request('POST', '/agiqa/verdict', payload);
    if (answer.status === 404) return false;
    if (answer.status < 200 || answer.status >= 300) throw this.fail('POST', '/agiqa/verdict', answer);
    return true;
  }
}
