import { describe, expect, it } from 'vitest';
import { PendingWork } from '../../src/pipeline/pending-work.js';

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  return { promise, resolve, reject };
}

describe('PendingWork', () => {
  it('answers AGQ_ERR_SERVER_TIMEOUT after timeoutMs while the work goes on, and forgets it once done', async () => {
    const pending = new PendingWork();
    const work = deferred<string>();
    await expect(pending.track(work.promise, 20)).rejects.toMatchObject({ code: 'AGQ_ERR_SERVER_TIMEOUT' });
    expect(pending.size).toBe(1);
    work.resolve('stored');
    await work.promise;
    expect(pending.size).toBe(0);
  });

  it('without a timeout the caller waits for the work itself', async () => {
    const pending = new PendingWork();
    const work = deferred<string>();
    const answer = pending.track(work.promise);
    setTimeout(() => work.resolve('late'), 30);
    await expect(answer).resolves.toBe('late');
  });

  it('hands failures of work to onError (nothing unhandled) and still rejects the caller', async () => {
    const seen: unknown[] = [];
    const pending = new PendingWork((error) => seen.push(error));
    const failure = new Error('worker died');
    await expect(pending.track(Promise.reject(failure), 1_000)).rejects.toBe(failure);
    expect(seen).toEqual([failure]);
    expect(pending.size).toBe(0);
  });

  it('settle waits for pending work and for busy() to clear, at most graceMs', async () => {
    const pending = new PendingWork();
    const work = deferred<void>();
    void pending.track(work.promise).catch(() => undefined);
    let busy = true;
    setTimeout(() => work.resolve(), 20);
    setTimeout(() => (busy = false), 60);
    const started = Date.now();
    await pending.settle(2_000, () => busy);
    expect(Date.now() - started).toBeGreaterThanOrEqual(50);
    expect(pending.size).toBe(0);

    const stuck = deferred<void>();
    void pending.track(stuck.promise);
    const before = Date.now();
    await pending.settle(50);
    expect(Date.now() - before).toBeLessThan(1_000);
    expect(pending.size).toBe(1);
    stuck.resolve();
  });
});
