// `agiqa score --server URL`: a Scorer that sends each file to a running server's POST /v1/score, so the
// scores go through the server's pipeline (its admission, dedupe, verdicts, history and event stream)
// instead of a second copy of the model in this process. A busy server (503 + Retry-After) is waited out.
import { setTimeout as sleep } from 'node:timers/promises';
import { AgiqaError, agiqaError, errorCatalog, type ErrorCode } from '../errors/index.js';
import type { ScoreRequest, ScoreResult, Scorer } from '../scoring/index.js';

export interface ServerScore {
  result: ScoreResult;
  generationId: number;
  cached: boolean;
  verdict: unknown;
}

export interface ServerScorer extends Scorer {
  /** What the server answered for a file (its generation id and verdict besides the result). */
  answerFor(result: ScoreResult): ServerScore | undefined;
}

/** How long a busy or starting server is waited for before the file is reported as failed. */
const BUSY_BUDGET_MS = 120_000;

function serverError(status: number, body: unknown, url: string): AgiqaError {
  const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  if (typeof error?.code === 'string' && error.code in errorCatalog && typeof error.message === 'string') {
    return new AgiqaError(error.code as ErrorCode, error.message);
  }
  return agiqaError('AGQ_ERR_SERVER_UNREACHABLE', { url, detail: `HTTP ${status} is not an answer of the agiqa API` });
}

/** Throws AGQ_ERR_SERVER_UNREACHABLE when nothing answers at `url`; answers the server's own error codes. */
export async function connectServerScorer(url: string, token: string | undefined): Promise<ServerScorer> {
  const base = url.replace(/\/+$/, '');
  const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
  const call = async (path: string, init: RequestInit = {}): Promise<{ status: number; body: unknown; retryAfter: number | null }> => {
    let response: Response;
    try {
      response = await fetch(`${base}${path}`, { ...init, headers: { ...headers, ...(init.headers as Record<string, string> | undefined) } });
    } catch (cause) {
      const detail = cause instanceof Error ? ((cause.cause as Error | undefined)?.message ?? cause.message) : String(cause);
      throw agiqaError('AGQ_ERR_SERVER_UNREACHABLE', { url: base, detail }, { cause });
    }
    const retryAfter = response.headers.get('retry-after');
    const body: unknown = await response.json().catch(() => null);
    return { status: response.status, body, retryAfter: retryAfter === null ? null : Number(retryAfter) };
  };
  const health = await call('/v1/health');
  const pack = (health.body as { pack?: { name: string; version: string } | null } | null)?.pack ?? null;
  if (health.status === 401) throw serverError(health.status, health.body, base);
  const answers = new WeakMap<ScoreResult, ServerScore>();
  let inFlight = 0;
  const score = async (request: ScoreRequest): Promise<ScoreResult> => {
    const query = new URLSearchParams({ name: request.name, source: 'cli' });
    if (request.prompt !== undefined) query.set('prompt', request.prompt);
    if (request.negativePrompt !== undefined) query.set('negativePrompt', request.negativePrompt);
    const deadline = Date.now() + BUSY_BUDGET_MS;
    inFlight += 1;
    try {
      for (;;) {
        const answer = await call(`/v1/score?${query.toString()}`, { method: 'POST', body: request.image as Uint8Array<ArrayBuffer>, headers: { 'content-type': 'application/octet-stream' } });
        if (answer.status === 200) {
          const scored = answer.body as ServerScore;
          answers.set(scored.result, scored);
          return scored.result;
        }
        if (answer.status === 503 && answer.retryAfter !== null && Date.now() < deadline) {
          await sleep(Math.min(5, Math.max(0.2, answer.retryAfter)) * 1_000);
          continue;
        }
        throw serverError(answer.status, answer.body, base);
      }
    } finally {
      inFlight -= 1;
    }
  };
  return {
    pack: pack ?? { name: 'server', version: '' },
    score,
    scoreBatch: (requests) => Promise.all(requests.map(score)),
    load: () => ({ queued: 0, running: inFlight }),
    close: async () => undefined,
    answerFor: (result) => answers.get(result),
  };
}
