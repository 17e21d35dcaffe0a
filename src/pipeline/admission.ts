// Admission control shared by every entrance (HTTP routes, bridges, plugins' routes): images admitted
// at once (waiting, running or being stored) are bounded by one capacity. A request that finds no room
// is refused at once (a client retries on 503); a bridge, which has nobody to answer, waits its turn.
import { agiqaError } from '../errors/index.js';

/** Frees an admission; calling it again does nothing. */
export type Release = () => void;

/**
 * How an entrance pays for room: a Release it already took, or `onMiss`, called after the stored
 * scores were looked up with the number of images that still need scoring (none for a cache hit), so
 * that an image already scored is answered without taking room at all.
 */
export type AdmissionTicket = Release | { onMiss: (count: number) => Release };

export interface AdmissionOptions {
  capacity: number;
  /** Called for every refusal because the queue is full (the rejections counter). */
  onRejected?: (() => void) | undefined;
}

export class Admission {
  private inFlightCount = 0;
  private closing = false;
  private readonly waiting: { count: number; resolve: (release: Release) => void; reject: (error: unknown) => void }[] = [];

  constructor(private readonly options: AdmissionOptions) {}

  get capacity(): number {
    return this.options.capacity;
  }

  get inFlight(): number {
    return this.inFlightCount;
  }

  /** Entrances waiting for room (bridges in a burst). */
  get waiters(): number {
    return this.waiting.length;
  }

  get isClosing(): boolean {
    return this.closing;
  }

  /**
   * Reserves room for `count` images now or throws AGQ_ERR_QUEUE_FULL / AGQ_ERR_SHUTTING_DOWN.
   * `accepted`: the request was accepted before shutdown began (it was reading its body), so it is
   * still served while the server drains.
   */
  admit(count: number, accepted = false): Release {
    if (this.closing && !accepted) throw agiqaError('AGQ_ERR_SHUTTING_DOWN', {});
    // Waiters are served first: a stream of requests must not starve a bridge that is waiting.
    if (this.waiting.length > 0 || this.inFlightCount + count > this.options.capacity) {
      this.options.onRejected?.();
      throw agiqaError('AGQ_ERR_QUEUE_FULL', { queued: this.inFlightCount, maxQueue: this.options.capacity });
    }
    return this.take(count);
  }

  /**
   * Room for `count` images now, or null (nobody waiting ahead, nothing counted as a refusal): for work
   * that is only worth starting when there is room (an image scored while its batch still arrives).
   */
  tryAdmit(count: number, accepted = false): Release | null {
    if ((this.closing && !accepted) || this.waiting.length > 0 || this.inFlightCount + count > this.options.capacity) return null;
    return this.take(count);
  }

  /**
   * Reserves room for `count` images (at most the whole capacity), waiting in line until there is.
   * Rejects with AGQ_ERR_SHUTTING_DOWN once `close` was called.
   */
  admitWhenFree(count: number): Promise<Release> {
    const wanted = Math.min(count, this.options.capacity);
    if (this.closing) return Promise.reject(agiqaError('AGQ_ERR_SHUTTING_DOWN', {}));
    if (this.waiting.length === 0 && this.inFlightCount + wanted <= this.options.capacity) return Promise.resolve(this.take(wanted));
    return new Promise<Release>((resolve, reject) => this.waiting.push({ count: wanted, resolve, reject }));
  }

  /** Stops admitting; entrances still waiting are refused with AGQ_ERR_SHUTTING_DOWN. */
  close(): void {
    this.closing = true;
    for (const waiter of this.waiting.splice(0)) waiter.reject(agiqaError('AGQ_ERR_SHUTTING_DOWN', {}));
  }

  private take(count: number): Release {
    this.inFlightCount += count;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.inFlightCount -= count;
      this.wakeWaiters();
    };
  }

  private wakeWaiters(): void {
    while (this.waiting.length > 0 && this.inFlightCount + this.waiting[0]!.count <= this.options.capacity) {
      const next = this.waiting.shift()!;
      next.resolve(this.take(next.count));
    }
  }
}
