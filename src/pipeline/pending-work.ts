// Work the pipeline keeps running after its request stopped waiting (a timed-out score is still
// stored), and the wait for all of it at shutdown.
import { agiqaError } from '../errors/index.js';

export class PendingWork {
  private readonly pending = new Set<Promise<unknown>>();

  /** `onError` sees the failures of work nobody may be waiting for any more (logged, never unhandled). */
  constructor(private readonly onError: (error: unknown) => void = () => undefined) {}

  get size(): number {
    return this.pending.size;
  }

  /**
   * Keeps `work` running to completion in the background; with `timeoutMs` the caller waits at most that
   * long (then AGQ_ERR_SERVER_TIMEOUT), without it for the work itself.
   */
  async track<T>(work: Promise<T>, timeoutMs?: number): Promise<T> {
    this.pending.add(work);
    const forget = () => this.pending.delete(work);
    work.then(forget, (error: unknown) => {
      forget();
      this.onError(error);
    });
    if (timeoutMs === undefined) return work;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(agiqaError('AGQ_ERR_SERVER_TIMEOUT', { timeoutMs })), timeoutMs);
    });
    try {
      return await Promise.race([work, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Waits (at most `graceMs`) until no work is pending and `busy()` says nothing else is on its way. */
  async settle(graceMs: number, busy: () => boolean = () => false): Promise<void> {
    const deadline = Date.now() + graceMs;
    while ((this.pending.size > 0 || busy()) && Date.now() < deadline) {
      // A timer always takes part: settled-at-once work must not turn this into a loop that never
      // yields to the event loop (the bodies of accepted requests still have to arrive).
      const step = Math.max(0, Math.min(20, deadline - Date.now()));
      const tick = new Promise((resolve) => setTimeout(resolve, step).unref());
      await (this.pending.size > 0 ? Promise.race([Promise.allSettled([...this.pending]), tick]) : tick);
    }
  }
}
