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
 * once; `later` runs once the worker has had no job for IDLE_MS (the rest of a UI's batch and its answer come first),
 * and its value follows as an `extra` message (WorkerPoolOptions.onExtra) with the job's buffers, which
 * the later work may still read.
 */
export class AnswerFirst<Result> {
  constructor(
    readonly value: Result,
    readonly later: () => Promise<unknown>,
  ) {}
}

/**
 * How long a worker must have had no job before later work starts: the next job of a batch arrives
 * within a millisecond or two, and the main thread still stores and answers the batch after its last image.
 */
const IDLE_MS = 100;
/** Later work waiting at most; past it the oldest runs at once (each holds its image's buffers). */
const MAX_WAITING_LATER = 2;

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
  let jobs = 0;
  let lastJobEnded = 0;
  const waiting: (() => Promise<void>)[] = [];
  let timer: NodeJS.Timeout | undefined;
  const runLater = async (work: () => Promise<void>) => {
    await work();
    schedule();
  };
  // Later work waits while jobs come in (under steady load, never more than MAX_WAITING_LATER).
  const schedule = () => {
    clearTimeout(timer);
    if (waiting.length === 0) return;
    if (waiting.length > MAX_WAITING_LATER) {
      void runLater(waiting.shift()!);
      return;
    }
    if (jobs > 0) return;
    const idleFor = Date.now() - lastJobEnded;
    if (idleFor >= IDLE_MS) void runLater(waiting.shift()!);
    else timer = setTimeout(schedule, IDLE_MS - idleFor);
  };
  port.on('message', async (message: WorkerJobMessage<Request>) => {
    jobs += 1;
    clearTimeout(timer);
    let reply: WorkerReply;
    let later: (() => Promise<unknown>) | undefined;
    try {
      const answer = await handle(message.payload);
      if (answer instanceof AnswerFirst) later = answer.later;
      reply = { kind: 'result', id: message.id, value: answer instanceof AnswerFirst ? answer.value : answer };
    } catch (error) {
      reply = { kind: 'error', id: message.id, error: serialise(error) };
    }
    jobs -= 1;
    lastJobEnded = Date.now();
    // The job's buffers go back (moved, not copied) to be reused for the next upload, once nothing of
    // the job reads them any more: a result never refers to the image bytes, later work may.
    const returned = (message.transferred ?? []).filter((buffer) => buffer.byteLength > 0);
    if (later === undefined) {
      port.postMessage({ ...reply, returned }, returned);
    } else {
      port.postMessage(reply);
      const work = later;
      waiting.push(async () => {
        const value = await work().catch(() => null);
        port.postMessage({ kind: 'extra', value, returned } satisfies WorkerReply, returned);
      });
    }
    schedule();
  });
  port.postMessage({ kind: 'ready' } satisfies WorkerReply);
}
