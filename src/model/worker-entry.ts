// The worker side of worker-pool.ts: prepare once (load models), then answer jobs one at a time.
import { parentPort } from 'node:worker_threads';
import { isAgiqaError } from '../errors/index.js';
import type { WorkerJobMessage, WorkerReply } from './worker-pool.js';

function serialise(error: unknown): { code: string; message: string; details?: unknown } {
  if (isAgiqaError(error)) return error.toJSON();
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'AGQ_ERR_INFERENCE', message: `Inference failed: ${message}` };
}

/**
 * A job's answer with work that goes on after it (the dashboard's thumbnail): the answer goes back at
 * once, `later`'s value follows as an `extra` message (WorkerPoolOptions.onExtra) with the job's
 * buffers, which the later work may still read.
 */
export class AnswerFirst<Result> {
  constructor(
    readonly value: Result,
    readonly later: Promise<unknown>,
  ) {}
}

/** Runs in a worker thread: awaits `prepare`, reports ready, then serves each job with `handle`. */
export async function serveWorkerJobs<Request, Result>(
  prepare: () => Promise<(request: Request) => Promise<Result | AnswerFirst<Result>>>,
): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('serveWorkerJobs must run inside a worker thread');
  let handle: (request: Request) => Promise<Result | AnswerFirst<Result>>;
  try {
    handle = await prepare();
  } catch (error) {
    port.postMessage({ kind: 'error', id: null, error: serialise(error) } satisfies WorkerReply);
    return;
  }
  port.on('message', async (message: WorkerJobMessage<Request>) => {
    let reply: WorkerReply;
    let later: Promise<unknown> | undefined;
    try {
      const answer = await handle(message.payload);
      if (answer instanceof AnswerFirst) later = answer.later;
      reply = { kind: 'result', id: message.id, value: answer instanceof AnswerFirst ? answer.value : answer };
    } catch (error) {
      reply = { kind: 'error', id: message.id, error: serialise(error) };
    }
    // The job's buffers go back (moved, not copied) to be reused for the next upload, once nothing of
    // the job reads them any more: a result never refers to the image bytes, later work may.
    const returned = (message.transferred ?? []).filter((buffer) => buffer.byteLength > 0);
    if (later === undefined) {
      port.postMessage({ ...reply, returned }, returned);
      return;
    }
    port.postMessage(reply);
    const value = await later.catch(() => null);
    port.postMessage({ kind: 'extra', value, returned } satisfies WorkerReply, returned);
  });
  port.postMessage({ kind: 'ready' } satisfies WorkerReply);
}
