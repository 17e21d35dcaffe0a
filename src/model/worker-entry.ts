// The worker side of worker-pool.ts: prepare once (load models), then answer jobs one at a time.
import { parentPort } from 'node:worker_threads';
import { isAgiqaError } from '../errors/index.js';
import type { WorkerJobMessage, WorkerReply } from './worker-pool.js';

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
  port.on('message', async (message: WorkerJobMessage<Request>) => {
    let reply: WorkerReply;
    try {
      reply = { kind: 'result', id: message.id, value: await handle(message.payload) };
    } catch (error) {
      reply = { kind: 'error', id: message.id, error: serialise(error) };
    }
    // The job's buffers go back (moved, not copied) to be reused for the next upload. The job is done
    // with them: nothing of a result refers to the image bytes.
    const returned = (message.transferred ?? []).filter((buffer) => buffer.byteLength > 0);
    port.postMessage({ ...reply, returned }, returned);
  });
  port.postMessage({ kind: 'ready' } satisfies WorkerReply);
}
