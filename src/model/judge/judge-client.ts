// The HTTP client of a judge pack's model server (Ollama, llama-server, vLLM, LM Studio: the
// OpenAI-compatible /v1/chat/completions). One request per round; 429, 5xx and dropped connections
// are retried with doubling delays up to the pack's bound; every failure ends as a catalogued error.
import { agiqaError, isAgiqaError, type AgiqaError } from '../../errors/index.js';
import type { JudgeInput } from './judge-input.js';

export type JudgeServer = JudgeInput['server'];

export type ChatContent = string | ({ type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string } })[];
export interface ChatMessage {
  role: 'user' | 'assistant' | 'system';
  content: ChatContent;
}

export interface ChatRequest {
  messages: ChatMessage[];
  maxTokens: number;
  temperature: number;
  seed: number | null;
  /** Alternatives per generated token to ask for; null asks for none. */
  topLogprobs: number | null;
}

/** One generated token with its log-probability and the alternatives the server listed. */
export interface TokenLogprob {
  token: string;
  logprob: number;
  top: { token: string; logprob: number }[];
}

export interface ChatAnswer {
  content: string;
  /** Per generated token; null when the server sent no log-probabilities. */
  tokens: TokenLogprob[] | null;
  /** Attempts made (1 when the first one answered). */
  attempts: number;
}

const NO_VISION = /mmproj|image input is not supported|missing data required for image input|does not support (?:images?|vision)|not a multimodal|vision is not (?:supported|enabled)/i;

/** Sleeps `ms` (a test may pass its own clock). */
export type Sleep = (ms: number) => Promise<void>;
const realSleep: Sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function authHeaders(server: Pick<JudgeServer, 'apiKeyEnv'>): Record<string, string> {
  const key = server.apiKeyEnv === null ? undefined : process.env[server.apiKeyEnv];
  return key === undefined || key === '' ? {} : { authorization: `Bearer ${key}` };
}

/** The server's error text from any of the shapes in use: {error:{message}}, {error:"…"}, plain text. */
export function errorMessageOf(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: unknown; message?: unknown } | string | null;
    if (typeof body === 'string') return body;
    if (body === null || typeof body !== 'object') return text.trim();
    if (typeof body.error === 'string') return body.error;
    if (body.error !== null && typeof body.error === 'object' && typeof (body.error as { message?: unknown }).message === 'string') return (body.error as { message: string }).message;
    if (typeof body.message === 'string') return body.message;
  } catch {
    // not JSON: the text itself
  }
  return text.slice(0, 300).trim() || '(empty body)';
}

function networkDetail(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const message = error instanceof Error ? error.message : String(error);
  return cause?.code !== undefined ? `${cause.code}: ${cause.message ?? message}` : cause?.message ?? message;
}

/** Classifies a non-2xx answer: the error, and whether another attempt may succeed. */
function httpFailure(server: JudgeServer, status: number, text: string): { error: AgiqaError; retry: boolean } {
  const message = errorMessageOf(text);
  if (NO_VISION.test(message)) return { error: agiqaError('AGQ_ERR_JUDGE_NO_VISION', { url: server.url, model: server.model, detail: message }), retry: false };
  if (status === 503 && /load/i.test(message)) return { error: agiqaError('AGQ_ERR_JUDGE_LOADING', { url: server.url, detail: message }), retry: true };
  if (status === 404 && /model/i.test(message)) return { error: agiqaError('AGQ_ERR_JUDGE_MODEL_NOT_FOUND', { url: server.url, model: server.model, available: [] }), retry: false };
  const error = agiqaError('AGQ_ERR_JUDGE_REFUSED', { url: server.url, status, detail: message });
  return { error, retry: status === 429 || status >= 500 };
}

/** Reads the per-token log-probabilities of a chat answer in the shapes servers send. */
export function tokensOf(logprobs: unknown): TokenLogprob[] | null {
  const content = (logprobs as { content?: unknown } | null | undefined)?.content;
  if (!Array.isArray(content) || content.length === 0) return null;
  const out: TokenLogprob[] = [];
  for (const raw of content as Record<string, unknown>[]) {
    // OpenAI / Ollama / vLLM / llama.cpp: {token, logprob, top_logprobs:[{token, logprob}]};
    // llama.cpp with post_sampling_probs: {token, prob, top_probs:[{token, prob}]}.
    const token = typeof raw.token === 'string' ? raw.token : null;
    const logprob = typeof raw.logprob === 'number' ? raw.logprob : typeof raw.prob === 'number' ? Math.log(raw.prob) : null;
    if (token === null || logprob === null) return null;
    const list = Array.isArray(raw.top_logprobs) ? raw.top_logprobs : Array.isArray(raw.top_probs) ? raw.top_probs : [];
    const top: { token: string; logprob: number }[] = [];
    for (const alt of list as Record<string, unknown>[]) {
      const lp = typeof alt.logprob === 'number' ? alt.logprob : typeof alt.prob === 'number' ? Math.log(alt.prob) : null;
      if (typeof alt.token === 'string' && lp !== null && Number.isFinite(lp)) top.push({ token: alt.token, logprob: lp });
    }
    out.push({ token, logprob, top });
  }
  return out;
}

// The image is most of every request (a 768² PNG is ~2 MB of base64) and goes out twice per aspect:
// its bytes are made once per image and spliced into each body, instead of being escaped by
// JSON.stringify and encoded again six times (measured: ~25 ms per request on the bench machine).
const SAFE_DATA_URL = /^data:image\/[a-z]+;base64,[A-Za-z0-9+/=]*$/;
const urlBytes = new Map<string, Buffer | null>();
/** The bytes of a base64 data URL (checked once per image: nothing in it needs JSON escaping), else null. */
function bytesOfUrl(url: string): Buffer | null {
  let bytes = urlBytes.get(url);
  if (bytes === undefined) {
    bytes = SAFE_DATA_URL.test(url) ? Buffer.from(url, 'latin1') : null;
    urlBytes.set(url, bytes);
    // A few images in flight at once, never a growing cache.
    if (urlBytes.size > 8) urlBytes.delete(urlBytes.keys().next().value!);
  }
  return bytes;
}

/** The JSON body of a chat request, as bytes. */
export function requestBody(server: JudgeServer, request: ChatRequest): Buffer {
  const images: Buffer[] = [];
  const marker = (i: number) => `\u0001agiqa-image-${i}\u0001`;
  const messages = request.messages.map((message) =>
    typeof message.content === 'string'
      ? message
      : {
          ...message,
          content: message.content.map((part) => {
            const bytes = part.type === 'image_url' ? bytesOfUrl(part.image_url.url) : null;
            if (bytes === null) return part;
            images.push(bytes);
            return { type: 'image_url', image_url: { url: marker(images.length - 1) } };
          }),
        },
  );
  const body: Record<string, unknown> = {
    model: server.model,
    messages,
    temperature: request.temperature,
    max_tokens: request.maxTokens,
    stream: false,
  };
  if (request.seed !== null) body.seed = request.seed;
  if (request.topLogprobs !== null) {
    body.logprobs = true;
    body.top_logprobs = request.topLogprobs;
    // llama-server's own name for it; its OpenAI layer maps top_logprobs too, older builds only n_probs.
    if (server.flavor === 'llama.cpp') body.n_probs = request.topLogprobs;
  }
  const json = JSON.stringify(body);
  if (images.length === 0) return Buffer.from(json);
  // JSON.stringify writes the marker's control characters as \u0001: split there and splice the bytes.
  const pieces: Buffer[] = [];
  let rest = json;
  images.forEach((bytes, i) => {
    const escaped = JSON.stringify(marker(i)).slice(1, -1);
    const at = rest.indexOf(escaped);
    pieces.push(Buffer.from(rest.slice(0, at)), bytes);
    rest = rest.slice(at + escaped.length);
  });
  pieces.push(Buffer.from(rest));
  return Buffer.concat(pieces);
}

/**
 * Sends one chat request, retrying 429/5xx/dropped connections. Throws AGQ_ERR_JUDGE_UNREACHABLE,
 * _LOADING, _MODEL_NOT_FOUND, _NO_VISION, _REFUSED, _TIMEOUT, _BAD_ANSWER.
 */
export async function chatCompletion(server: JudgeServer, request: ChatRequest, options: { sleep?: Sleep } = {}): Promise<ChatAnswer> {
  const sleep = options.sleep ?? realSleep;
  const url = `${server.url.replace(/\/+$/, '')}/v1/chat/completions`;
  const body = requestBody(server, request);
  let last: AgiqaError | undefined;
  for (let attempt = 1; attempt <= server.retries + 1; attempt++) {
    if (attempt > 1) await sleep(server.backoffMs * 2 ** (attempt - 2));
    let response: Response;
    let text: string;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...authHeaders(server) },
        // Buffer.concat/from allocate plain ArrayBuffers; the DOM typing only fears a SharedArrayBuffer.
        body: body as Uint8Array<ArrayBuffer>,
        signal: AbortSignal.timeout(server.timeoutMs),
      });
      text = await response.text();
    } catch (error) {
      if ((error as Error).name === 'TimeoutError') throw agiqaError('AGQ_ERR_JUDGE_TIMEOUT', { url: server.url, timeoutMs: server.timeoutMs }, { cause: error });
      last = agiqaError('AGQ_ERR_JUDGE_UNREACHABLE', { url: server.url, detail: networkDetail(error) }, { cause: error });
      continue;
    }
    if (!response.ok) {
      const failure = httpFailure(server, response.status, text);
      if (!failure.retry) throw failure.error;
      last = failure.error;
      continue;
    }
    return { ...parseAnswer(server, text), attempts: attempt };
  }
  throw last!;
}

function parseAnswer(server: JudgeServer, text: string): Omit<ChatAnswer, 'attempts'> {
  let json: { choices?: { message?: { content?: unknown }; logprobs?: unknown }[] };
  try {
    json = JSON.parse(text) as typeof json;
  } catch {
    throw agiqaError('AGQ_ERR_JUDGE_BAD_ANSWER', { url: server.url, detail: `the answer is not JSON: ${text.slice(0, 80)}` });
  }
  const choice = json.choices?.[0];
  const content = choice?.message?.content;
  if (typeof content !== 'string') throw agiqaError('AGQ_ERR_JUDGE_BAD_ANSWER', { url: server.url, detail: 'the answer has no choices[0].message.content' });
  return { content, tokens: tokensOf(choice?.logprobs) };
}

/** The model names the server lists at /v1/models (Ollama, llama-server, vLLM and LM Studio all do). */
export async function listModels(server: Pick<JudgeServer, 'url' | 'apiKeyEnv' | 'timeoutMs'>): Promise<string[]> {
  let response: Response;
  try {
    response = await fetch(`${server.url.replace(/\/+$/, '')}/v1/models`, { headers: authHeaders(server), signal: AbortSignal.timeout(server.timeoutMs) });
  } catch (error) {
    if ((error as Error).name === 'TimeoutError') throw agiqaError('AGQ_ERR_JUDGE_TIMEOUT', { url: server.url, timeoutMs: server.timeoutMs }, { cause: error });
    throw agiqaError('AGQ_ERR_JUDGE_UNREACHABLE', { url: server.url, detail: networkDetail(error) }, { cause: error });
  }
  const text = await response.text();
  if (!response.ok) {
    if (response.status === 503) throw agiqaError('AGQ_ERR_JUDGE_LOADING', { url: server.url, detail: errorMessageOf(text) });
    throw agiqaError('AGQ_ERR_JUDGE_REFUSED', { url: server.url, status: response.status, detail: errorMessageOf(text) });
  }
  try {
    const data = (JSON.parse(text) as { data?: { id?: unknown }[] }).data;
    if (!Array.isArray(data)) throw new Error('no data[]');
    return data.map((m) => m.id).filter((id): id is string => typeof id === 'string');
  } catch (error) {
    if (isAgiqaError(error)) throw error;
    throw agiqaError('AGQ_ERR_JUDGE_BAD_ANSWER', { url: server.url, detail: `/v1/models did not list models (${(error as Error).message})` });
  }
}

/** Which server answers at `url`: llama-server has /props, Ollama /api/version; anything else is plain OpenAI. */
export async function detectFlavor(url: string, timeoutMs: number): Promise<JudgeServer['flavor']> {
  const base = url.replace(/\/+$/, '');
  const ok = async (path: string, check: (body: Record<string, unknown>) => boolean): Promise<boolean> => {
    try {
      const response = await fetch(`${base}${path}`, { signal: AbortSignal.timeout(timeoutMs) });
      return response.ok && check((await response.json()) as Record<string, unknown>);
    } catch {
      return false;
    }
  };
  if (await ok('/api/version', (b) => typeof b.version === 'string')) return 'ollama';
  if (await ok('/props', (b) => 'default_generation_settings' in b)) return 'llama.cpp';
  return 'openai';
}

/** Caps the requests in flight per server URL, shared by every judge scorer of this process. */
export class RequestLimiter {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  constructor(readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.running++;
    try {
      return await task();
    } finally {
      const next = this.waiting.shift();
      if (next !== undefined) next();
      else this.running--;
    }
  }
}

const limiters = new Map<string, RequestLimiter>();

/** The limiter of the server at `url` (the first pack to ask sets its limit). */
export function limiterFor(server: Pick<JudgeServer, 'url' | 'concurrency'>): RequestLimiter {
  const key = server.url.replace(/\/+$/, '');
  let limiter = limiters.get(key);
  if (limiter === undefined) limiters.set(key, (limiter = new RequestLimiter(server.concurrency)));
  return limiter;
}
