import { afterEach, describe, expect, it } from 'vitest';
import { WorkerPool } from '../../src/model/worker-pool.js';

const script = new URL('../fixtures/workers/echo-worker.ts', import.meta.url);
type Job = { op: 'echo' | 'fail' | 'crash' | 'sleep' | 'spin'; value?: number; bytes?: Uint8Array };
type Reply = { value: number | undefined };

let pool: WorkerPool<Job, Reply> | undefined;
afterEach(async () => {
  await pool?.close(1_000);
  pool = undefined;
});

describe('WorkerPool', () => {
  it('runs jobs in workers and returns their results', async () => {
    pool = await WorkerPool.start<Job, Reply>({ script, workerData: {}, size: 2, maxQueue: 10 });
    const results = await Promise.all([1, 2, 3, 4, 5].map((value) => pool!.run({ op: 'echo', value })));
    expect(results.map((r) => r.value)).toEqual([1, 2, 3, 4, 5]);
  });

  it('gives the buffers a job transferred back when the worker is done, after a result or an error', async () => {
    const returned: ArrayBuffer[] = [];
    pool = await WorkerPool.start<Job, Reply>({ script, workerData: {}, size: 1, maxQueue: 10, onReturned: (buffers) => returned.push(...buffers) });
    const bytes = new Uint8Array(1024).fill(7);
    const answer = pool.run({ op: 'echo', bytes }, [bytes.buffer]);
    expect(bytes.byteLength).toBe(0); // moved, not copied
    expect((await answer).value).toBe(7);
    const failing = new Uint8Array(2048);
    await expect(pool.run({ op: 'fail', bytes: failing }, [failing.buffer])).rejects.toMatchObject({ code: 'AGQ_ERR_IMAGE_EMPTY' });
    expect(returned.map((buffer) => buffer.byteLength)).toEqual([1024, 2048]);
    expect(new Uint8Array(returned[0]!)[0]).toBe(7);
  });

  it('passes a catalogued error from the worker through with its code', async () => {
    pool = await WorkerPool.start<Job, Reply>({ script, workerData: {}, size: 1, maxQueue: 10 });
    await expect(pool.run({ op: 'fail' })).rejects.toMatchObject({ code: 'AGQ_ERR_IMAGE_EMPTY', message: 'x.png: the file is empty (0 bytes)', status: 422 });
  });

  it('refuses a job when the queue is full instead of growing without bound', async () => {
    pool = await WorkerPool.start<Job, Reply>({ script, workerData: {}, size: 1, maxQueue: 2 });
    const accepted = [pool.run({ op: 'sleep', value: 200 }), pool.run({ op: 'sleep', value: 1 }), pool.run({ op: 'sleep', value: 1 })];
    await expect(pool.run({ op: 'echo', value: 9 })).rejects.toMatchObject({ code: 'AGQ_ERR_QUEUE_FULL', status: 503 });
    await expect(Promise.all(accepted)).resolves.toHaveLength(3);
  });

  it('fails the job of a worker that dies, replaces the worker and goes on', async () => {
    pool = await WorkerPool.start<Job, Reply>({ script, workerData: {}, size: 1, maxQueue: 10 });
    await expect(pool.run({ op: 'crash' })).rejects.toMatchObject({ code: 'AGQ_ERR_WORKER_FAILED' });
    await expect(pool.run({ op: 'echo', value: 7 })).resolves.toMatchObject({ value: 7 });
  });

  it('reports a load failure from start()', async () => {
    await expect(WorkerPool.start<Job, Reply>({ script, workerData: { failToLoad: true }, size: 2, maxQueue: 1 })).rejects.toMatchObject({
      code: 'AGQ_ERR_PACK_NOT_FOUND',
    });
  });

  it('finishes accepted jobs on close and refuses new ones', async () => {
    pool = await WorkerPool.start<Job, Reply>({ script, workerData: {}, size: 1, maxQueue: 5 });
    const slow = pool.run({ op: 'sleep', value: 100 });
    const queued = pool.run({ op: 'echo', value: 3 });
    const closing = pool.close();
    await expect(pool.run({ op: 'echo' })).rejects.toMatchObject({ code: 'AGQ_ERR_SHUTTING_DOWN' });
    await expect(slow).resolves.toBeDefined();
    await expect(queued).resolves.toMatchObject({ value: 3 });
    await closing;
    pool = undefined;
  });

  describe('a job that never yields (a parser spinning on a hostile input)', () => {
    it('is cancelled at its deadline with a coded error, and its worker is replaced', async () => {
      pool = await WorkerPool.start<Job, Reply>({ script, workerData: {}, size: 1, maxQueue: 5, jobTimeoutMs: 300 });
      const first = (await pool.run({ op: 'echo', value: 1 })) as Reply & { worker: string };
      const started = Date.now();
      const stuck = pool.run({ op: 'spin' }, [], { label: 'hostile.png' });
      const queued = pool.run({ op: 'echo', value: 2 });
      await expect(stuck).rejects.toMatchObject({ code: 'AGQ_ERR_SCORE_CANCELLED', status: 504, message: expect.stringContaining('hostile.png: scoring ran longer than 300 ms') });
      expect(Date.now() - started).toBeLessThan(2_000);
      // The job queued behind the stuck one runs on the replacement worker.
      await expect(queued).resolves.toMatchObject({ value: 2 });
      expect(pool.load).toMatchObject({ size: 1, workers: 1, stalled: 0, cancelled: 1 });
      const after = (await pool.run({ op: 'echo', value: 3 })) as Reply & { worker: string };
      expect(after.value).toBe(3);
      expect(first.worker).toBeDefined();
    });

    it('counts as stalled past half its deadline, so health can see a pool that cannot score', async () => {
      pool = await WorkerPool.start<Job, Reply>({ script, workerData: {}, size: 1, maxQueue: 5, jobTimeoutMs: 1_000 });
      const stuck = pool.run({ op: 'spin' }).catch((error: unknown) => error);
      expect(pool.load.stalled).toBe(0);
      await new Promise((resolve) => setTimeout(resolve, 650));
      expect(pool.load).toMatchObject({ running: 1, stalled: 1 });
      await expect(stuck).resolves.toMatchObject({ code: 'AGQ_ERR_SCORE_CANCELLED' });
    });

    it('does not hold close() beyond its grace: the stuck worker is terminated and its job fails', async () => {
      pool = await WorkerPool.start<Job, Reply>({ script, workerData: {}, size: 1, maxQueue: 5 });
      const stuck = pool.run({ op: 'spin' }).catch((error: unknown) => error);
      const queued = pool.run({ op: 'echo', value: 1 }).catch((error: unknown) => error);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const started = Date.now();
      await pool.close(200);
      expect(Date.now() - started).toBeLessThan(1_500);
      await expect(stuck).resolves.toMatchObject({ code: 'AGQ_ERR_SHUTTING_DOWN' });
      await expect(queued).resolves.toMatchObject({ code: 'AGQ_ERR_SHUTTING_DOWN' });
      pool = undefined;
    });
  });
});
