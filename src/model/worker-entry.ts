// The worker side of worker-pool.ts: prepare once (load models), then answer jobs one at a time.
import { parentPort } from 'node:worker_threads';
import { isAgiqaError } from '../errors/index.js';
import type { WorkerReply } from './worker-pool.js';

function serialise(error: unknown): { code: string; message: string; details?: unknown } {
  if (isAgiqaError(error)) return error.toJSON();
  const message = error instanceof Error ? error.message : String(error);
  return { code: 'AGQ_ERR_INFERENCE', message: `Inference failed: ${message}` };
}

/** Runs in a worker thread: awaits `prepare`, reports ready, then serves each job with `handle`. */
export async function serveWorkerJobs<Request, Result>(
  prepare: () => Promise<(request: Request) => Promise<Result>>,
): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('serveWorkerJobs must run inside a worker thread');
  let handle: (request: Request) => Promise<Result>;
  try {
    handle = await prepare();
  } catch (error) {
    port.postMessage({ kind: 'error', id: null, error: serialise(error) } satisfies WorkerReply);
    return;
  }
  port.on('message', async (message: { id: number; payload: Request }) => {
    try {
      const value = await handle(message.payload);
      port.postMessage({ kind: 'result', id: message.id, value } satisfies WorkerReply);
    } catch (error) {
      port.postMessage({ kind: 'error', id: message.id, error: serialise(error) } satisfies WorkerReply);
    }
  });
  port.postMessage({ kind: 'ready' } satisfies WorkerReply);
}
