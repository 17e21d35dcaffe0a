// `agiqa score --server URL`: sends each file to a running agiqa server (POST /v1/score, raw bytes)
// instead of loading a pack here, so the scores land in its store and its dashboard shows them live.
// A full queue (503) is waited out as Retry-After says; every other refusal is that file's error.
import { basename } from 'node:path';
import { AgiqaError, agiqaError, isAgiqaError, type ErrorCode } from '../errors/index.js';
import { readImageBytes } from '../image/index.js';
import type { ScoreResult } from '../scoring/index.js';

export interface RemoteOutcome {
  file: string;
  result?: ScoreResult;
  verdict?: { verdict: string };
  error?: AgiqaError;
}

export interface RemoteOptions {
  server: string;
  prompt?: string | undefined;
  /** Bearer token (AGIQA_TOKEN) for a server that requires one. */
  token?: string | undefined;
  /** Requests in flight at once. */
  concurrency: number;
}

const MAX_BUSY_RETRIES = 60;

async function scoreRemotely(file: string, options: RemoteOptions): Promise<RemoteOutcome> {
  const image = await readImageBytes(file);
  const query = new URLSearchParams({ name: basename(file), source: 'cli' });
  if (options.prompt !== undefined) query.set('prompt', options.prompt);
  const url = new URL(`v1/score?${query}`, options.server.endsWith('/') ? options.server : `${options.server}/`);
  for (let attempt = 0; ; attempt += 1) {
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream', ...(options.token ? { authorization: `Bearer ${options.token}` } : {}) },
        body: new Uint8Array(image),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw agiqaError('AGQ_ERR_CLI_SERVER_UNREACHABLE', { url: options.server, detail: cause?.code ?? cause?.message ?? (error as Error).message }, { cause: error });
    }
    const body = (await response.json().catch(() => null)) as { result?: ScoreResult; verdict?: { verdict: string }; error?: { code: string; message: string } } | null;
    if (response.ok && body?.result) return { file, result: body.result, verdict: body.verdict };
    if (response.status === 503 && body?.error?.code === 'AGQ_ERR_QUEUE_FULL' && attempt < MAX_BUSY_RETRIES) {
      await new Promise((resolve) => setTimeout(resolve, Number(response.headers.get('retry-after') ?? 1) * 1000));
      continue;
    }
    const code = (body?.error?.code ?? 'AGQ_ERR_SERVER_INTERNAL') as ErrorCode;
    return { file, error: new AgiqaError(code, `${file}: ${body?.error?.message ?? `the server answered HTTP ${response.status}`}`) };
  }
}

/**
 * Scores `files` on the server, `concurrency` at a time, reporting each outcome as it arrives. Throws
 * AGQ_ERR_CLI_SERVER_UNREACHABLE when the server cannot be reached at all (the rest would fail alike).
 */
export async function scoreFilesRemotely(files: string[], options: RemoteOptions, onOutcome: (outcome: RemoteOutcome) => void): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < files.length) {
      const file = files[next++]!;
      try {
        onOutcome(await scoreRemotely(file, options));
      } catch (error) {
        if (isAgiqaError(error) && error.code !== 'AGQ_ERR_CLI_SERVER_UNREACHABLE') onOutcome({ file, error });
        else throw error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, files.length) }, lane));
}
