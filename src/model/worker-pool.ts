// A fixed pool of worker threads with a bounded queue: inference and pixel work never run on the
// caller's event loop, and a full queue is refused at once (AGQ_ERR_QUEUE_FULL) instead of growing
// memory without bound. A worker that dies is replaced; its job fails with a clear error. A job that
// runs past its deadline cannot be interrupted inside the thread (a spinning parser never yields), so
// its worker is terminated and replaced, and the job fails with AGQ_ERR_SCORE_CANCELLED.
import { performance } from 'node:perf_hooks';
import { Worker, type TransferListItem } from 'node:worker_threads';
import { AgiqaError, agiqaError, type ErrorCode } from '../errors/index.js';

export interface WorkerPoolOptions {
  /** The worker's module: it must call `serveWorkerJobs` (worker-entry.ts). */
  script: URL;
  workerData: unknown;
  size: number;
  /** Jobs waiting beyond those running; one more is refused. */
  maxQueue: number;
  /** Running time after which a job is cancelled and its worker replaced; none when absent. */
  jobTimeoutMs?: number | undefined;
  /** Receives the buffers a job transferred to its worker, which the worker sends back when done. */
  onReturned?: ((buffers: ArrayBuffer[]) => void) | undefined;
}

export interface RunOptions {
  /** This job's deadline instead of `jobTimeoutMs` (a batch gets one per image). */
  timeoutMs?: number | undefined;
  /** Names the job in the cancellation message (a file name). */
  label?: string | undefined;
}

/** What the pool can do right now, for health checks and metrics. */
export interface PoolLoad {
  queued: number;
  running: number;
  /** Workers the pool keeps. */
  size: number;
  /** Workers loaded and serving (fewer than `size` while a replacement loads). */
  workers: number;
  /** Jobs running past half their deadline: their worker is likely stuck until it is cancelled. */
  stalled: number;
  /** Jobs cancelled at their deadline since the pool started. */
  cancelled: number;
}

interface Job {
  id: number;
  payload: unknown;
  transfer: TransferListItem[];
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  timeoutMs: number | undefined;
  label: string;
}

interface Slot {
  worker: Worker;
  job: Job | undefined;
  /** When the current job was handed to the worker (performance.now()). */
  startedAt: number;
  deadline: NodeJS.Timeout | undefined;
}

export type WorkerReply =
  | { kind: 'ready' }
  | { kind: 'result'; id: number; value: unknown; returned?: ArrayBuffer[] }
  | { kind: 'error'; id: number | null; error: { code: string; message: string; details?: unknown }; returned?: ArrayBuffer[] };

/** What the worker receives: the job, and the buffers transferred with it (to send back when done). */
export interface WorkerJobMessage<Request = unknown> {
  id: number;
  payload: Request;
  transferred: ArrayBuffer[];
}

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
  private cancelledJobs = 0;

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

  get load(): PoolLoad {
    const now = performance.now();
    const stalled = this.slots.filter((slot) => slot.job?.timeoutMs !== undefined && now - slot.startedAt > slot.job.timeoutMs / 2).length;
    return { queued: this.queue.length, running: this.running, size: this.options.size, workers: this.slots.length, stalled, cancelled: this.cancelledJobs };
  }

  /**
   * Runs one job; throws AGQ_ERR_QUEUE_FULL when `maxQueue` jobs already wait, AGQ_ERR_SCORE_CANCELLED
   * when it runs past its deadline, AGQ_ERR_SHUTTING_DOWN when the pool closes before it is done.
   */
  run(payload: Request, transfer: TransferListItem[] = [], options: RunOptions = {}): Promise<Result> {
    if (this.closing) return Promise.reject(agiqaError('AGQ_ERR_SHUTTING_DOWN', {}));
    const idle = this.slots.find((slot) => slot.job === undefined);
    if (idle === undefined && this.queue.length >= this.options.maxQueue) {
      return Promise.reject(agiqaError('AGQ_ERR_QUEUE_FULL', { queued: this.queue.length, maxQueue: this.options.maxQueue }));
    }
    return new Promise<Result>((resolve, reject) => {
      const timeoutMs = options.timeoutMs ?? this.options.jobTimeoutMs;
      const job: Job = { id: this.nextId++, payload, transfer, resolve: resolve as (value: unknown) => void, reject, timeoutMs, label: options.label ?? 'job' };
      if (idle !== undefined) this.dispatch(idle, job);
      else this.queue.push(job);
    });
  }

  /**
   * Lets running and queued jobs finish for at most `graceMs`, then fails what is left with
   * AGQ_ERR_SHUTTING_DOWN and terminates the workers (a stuck one included).
   */
  async close(graceMs = Infinity): Promise<void> {
    this.closing = true;
    const deadline = performance.now() + graceMs;
    while ((this.queue.length > 0 || this.running > 0) && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(10, Math.max(0, deadline - performance.now()))));
      if (this.slots.length === 0) break;
    }
    for (const job of this.queue.splice(0)) job.reject(agiqaError('AGQ_ERR_SHUTTING_DOWN', {}));
    const slots = this.slots.splice(0);
    for (const slot of slots) {
      clearTimeout(slot.deadline);
      slot.job?.reject(agiqaError('AGQ_ERR_SHUTTING_DOWN', {}));
      slot.job = undefined;
    }
    await Promise.all(slots.map((slot) => slot.worker.terminate()));
  }

  private spawn(): Promise<void> {
    return new Promise((resolve, reject) => {
      const worker = createWorker(this.options.script, this.options.workerData);
      const slot: Slot = { worker, job: undefined, startedAt: 0, deadline: undefined };
      let ready = false;
      worker.on('message', (reply: WorkerReply) => {
        if (reply.kind === 'ready') {
          ready = true;
          if (this.closing) {
            // A replacement that finished loading after close() began: not needed any more.
            resolve();
            void worker.terminate();
            return;
          }
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
        if (reply.returned !== undefined && reply.returned.length > 0) this.options.onReturned?.(reply.returned);
        const job = slot.job;
        slot.job = undefined;
        clearTimeout(slot.deadline);
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
        clearTimeout(slot.deadline);
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
    // A cancelled worker is out of the slots while it terminates: it gets no more jobs.
    if (slot.job !== undefined || !this.slots.includes(slot)) return;
    const next = this.queue.shift();
    if (next !== undefined) this.dispatch(slot, next);
  }

  private dispatch(slot: Slot, job: Job): void {
    slot.job = job;
    slot.startedAt = performance.now();
    if (job.timeoutMs !== undefined) {
      const timeoutMs = job.timeoutMs;
      slot.deadline = setTimeout(() => this.cancel(slot, job, timeoutMs), timeoutMs);
    }
    const transferred = job.transfer.filter((item): item is ArrayBuffer => item instanceof ArrayBuffer);
    slot.worker.postMessage({ id: job.id, payload: job.payload, transferred } satisfies WorkerJobMessage, job.transfer);
  }

  /** A job past its deadline: fail it, and terminate its worker (the exit handler starts a replacement). */
  private cancel(slot: Slot, job: Job, timeoutMs: number): void {
    if (slot.job !== job) return;
    slot.job = undefined;
    this.cancelledJobs += 1;
    job.reject(agiqaError('AGQ_ERR_SCORE_CANCELLED', { file: job.label, timeoutMs }));
    // Out of the slots at once, so no queued job is dispatched to the dying worker.
    const index = this.slots.indexOf(slot);
    if (index >= 0) this.slots.splice(index, 1);
    void slot.worker.terminate();
  }
}
