import { describe, expect, it } from 'vitest';
import { Admission } from '../../src/pipeline/admission.js';

describe('Admission', () => {
  it('refuses a request beyond the capacity and counts the refusal', () => {
    let rejected = 0;
    const admission = new Admission({ capacity: 2, onRejected: () => (rejected += 1) });
    const release = admission.admit(2);
    expect(() => admission.admit(1)).toThrowError(expect.objectContaining({ code: 'AGQ_ERR_QUEUE_FULL' }));
    expect(rejected).toBe(1);
    release();
    release(); // idempotent
    expect(admission.inFlight).toBe(0);
  });

  it('a waiting entrance gets the room that frees, in line, and requests do not overtake it', async () => {
    const admission = new Admission({ capacity: 3 });
    const first = admission.admit(2);
    const order: string[] = [];
    const waiting = admission.admitWhenFree(3).then((release) => {
      order.push('bridge');
      return release;
    });
    expect(admission.waiters).toBe(1);
    // Room for one is left, but a waiter is in line: the request is refused.
    expect(() => admission.admit(1)).toThrowError(expect.objectContaining({ code: 'AGQ_ERR_QUEUE_FULL' }));
    first();
    const release = await waiting;
    expect(order).toEqual(['bridge']);
    expect(admission.inFlight).toBe(3);
    release();
    expect(admission.inFlight).toBe(0);
  });

  it('caps a wait at the whole capacity and refuses waiters once closed', async () => {
    const admission = new Admission({ capacity: 2 });
    const release = await admission.admitWhenFree(10);
    expect(admission.inFlight).toBe(2);
    const waiting = admission.admitWhenFree(1);
    admission.close();
    await expect(waiting).rejects.toMatchObject({ code: 'AGQ_ERR_SHUTTING_DOWN' });
    await expect(admission.admitWhenFree(1)).rejects.toMatchObject({ code: 'AGQ_ERR_SHUTTING_DOWN' });
    release();
  });

  it('tryAdmit takes room only when there is some and nobody waits, and counts no refusal', async () => {
    let rejected = 0;
    const admission = new Admission({ capacity: 2, onRejected: () => (rejected += 1) });
    const one = admission.tryAdmit(1)!;
    expect(admission.tryAdmit(2)).toBeNull();
    const two = admission.tryAdmit(1)!;
    expect(admission.inFlight).toBe(2);
    const waiting = admission.admitWhenFree(1);
    one();
    (await waiting)();
    two();
    expect(admission.inFlight).toBe(0);
    const blocker = admission.admit(2);
    const queued = admission.admitWhenFree(1);
    blocker();
    expect(admission.tryAdmit(1)).not.toBeNull(); // the waiter was served first, room remains for one
    (await queued)();
    expect(rejected).toBe(0);
    admission.close();
    expect(admission.tryAdmit(1)).toBeNull();
    expect(admission.tryAdmit(1, true)).not.toBeNull();
  });
});
