// A fixed pool of worker threads with a bounded queue: inference and pixel work never run on the
// caller's event loop, and a full queue is refused at once (AGQ_ERR_QUEUE_FULL) instead of growing
// memory without bound. A worker that dies is replaced; its job fails with a clear error.
import { Worker, type TransferListItem } from 'node:worker_threads';
import { AgiqaError, agiqaError, type ErrorCode } from '../errors/index.js';

export interface WorkerPoolOptions {
  /** The worker's module: it must call `serveWorkerJobs` (worker-entry.ts). */
  script: URL;
  workerData: unknown;
  size: number;
  /** Jobs waiting beyond those running; one more is refused. */
  maxQueue: number;
}

interface Job {
  id: number;
  payload: unknown;
  transfer: TransferListItem[];
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

interface Slot {
  worker: Worker;
  job: Job | undefined;
}

export type WorkerReply =
  | { kind: 'ready' }
  | { kind: 'result'; id: number; value: unknown }
  | { kind: 'error'; id: number | null; error: { code: string; message: string; details?: unknown } };

// Workers run compiled JavaScript when installed; under tests and tools the sources are TypeScript,
// which a worker can only load after registering tsx's loader inside that worker.
function createWorker(script: URL, workerData: unknown): Worker {
  if (!script.pathname.endsWith('.ts')) return new Worker(script, { workerData });
  const bootstrap = `import('tsx/esm/api').then((api) => { api.register(); return import(${JSON.stringify(script.href)}); })`;
  return new Worker(bootstrap, { eval: true, workerData });
}

function reviveError(error: { code: string; message: string; details?: unknown }): AgiqaError {
  return new AgiqaError(error.code as ErrorCode, error.message, { details: error.details });
}

export class WorkerPool<Request, Result> {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closing = false;

  private constructor(private readonly options: WorkerPoolOptions) {}

  /** Starts `size` workers and waits until each has loaded its models; throws the first load error. */
  static async start<Request, Result>(options: WorkerPoolOptions): Promise<WorkerPool<Request, Result>> {
    const pool = new WorkerPool<Request, Result>(options);
    try {
      await Promise.all(Array.from({ length: options.size }, () => pool.spawn()));
    } catch (error) {
      await pool.close();
      throw error;
    }
    return pool;
  }

  get running(): number {
    return this.slots.filter((slot) => slot.job !== undefined).length;
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Runs one job; throws AGQ_ERR_QUEUE_FULL when `maxQueue` jobs already wait. */
  run(payload: Request, transfer: TransferListItem[] = []): Promise<Result> {
    if (this.closing) return Promise.reject(agiqaError('AGQ_ERR_SHUTTING_DOWN', {}));
    const idle = this.slots.find((slot) => slot.job === undefined);
    if (idle === undefined && this.queue.length >= this.options.maxQueue) {
      return Promise.reject(agiqaError('AGQ_ERR_QUEUE_FULL', { queued: this.queue.length, maxQueue: this.options.maxQueue }));
    }
    return new Promise<Result>((resolve, reject) => {
      const job: Job = { id: this.nextId++, payload, transfer, resolve: resolve as (value: unknown) => void, reject };
      if (idle !== undefined) this.dispatch(idle, job);
      else this.queue.push(job);
    });
  }

  /** Lets running and queued jobs finish, then stops the workers. */
  async close(): Promise<void> {
    this.closing = true;
    while (this.queue.length > 0 || this.running > 0) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      if (this.slots.length === 0) break;
    }
    const workers = this.slots.splice(0).map((slot) => slot.worker);
    await Promise.all(workers.map((worker) => worker.terminate()));
  }

  private spawn(): Promise<void> {
    return new Promise((resolve, reject) => {
      const worker = createWorker(this.options.script, this.options.workerData);
      const slot: Slot = { worker, job: undefined };
      let ready = false;
      worker.on('message', (reply: WorkerReply) => {
        if (reply.kind === 'ready') {
          ready = true;
          this.slots.push(slot);
          resolve();
          this.pump(slot);
          return;
        }
        if (!ready && reply.kind === 'error') {
          reject(reviveError(reply.error));
          void worker.terminate();
          return;
        }
        const job = slot.job;
        slot.job = undefined;
        if (job !== undefined) {
          if (reply.kind === 'result') job.resolve(reply.value);
          else job.reject(reviveError(reply.error));
        }
        this.pump(slot);
      });
      worker.on('error', (cause) => {
        if (!ready) {
          reject(agiqaError('AGQ_ERR_WORKER_FAILED', { detail: cause.message }, { cause }));
          return;
        }
        slot.job?.reject(agiqaError('AGQ_ERR_WORKER_FAILED', { detail: cause.message }, { cause }));
        slot.job = undefined;
      });
      worker.on('exit', () => {
        const index = this.slots.indexOf(slot);
        if (index >= 0) this.slots.splice(index, 1);
        slot.job?.reject(agiqaError('AGQ_ERR_WORKER_FAILED', { detail: 'the worker thread exited' }));
        slot.job = undefined;
        // Replace a worker that died while the pool is in use, so capacity does not silently shrink.
        if (ready && !this.closing) {
          this.spawn().catch((error: unknown) => {
            for (const job of this.queue.splice(0)) job.reject(error);
          });
        }
      });
    });
  }

  private pump(slot: Slot): void {
    if (slot.job !== undefined) return;
    const next = this.queue.shift();
    if (next !== undefined) this.dispatch(slot, next);
  }

  private dispatch(slot: Slot, job: Job): void {
    slot.job = job;
    slot.worker.postMessage({ id: job.id, payload: job.payload }, job.transfer);
  }
}
