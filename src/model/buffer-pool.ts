// Megabyte buffers reused between the main thread and the workers instead of allocated per image: an
// upload is read into a pooled buffer, the buffer moves to a worker with the job (transferred, not
// copied), and comes back with the answer to be read into again. Each fresh megabyte allocation is
// external memory V8 counts towards its next full collection; a steady stream of same-size frames
// (a UI's batches) then allocates nothing.

/** Buffers below this are not worth pooling (Node's own slab serves them). */
export const MIN_POOLED_BYTES = 256 * 1024;
/** Sizes are rounded up to a multiple of this, so uploads of nearly the same size share buffers. */
const SIZE_STEP = 256 * 1024;

export interface BufferPoolStats {
  /** Buffers made because none of the size was free. */
  allocated: number;
  /** Takes served from the pool. */
  reused: number;
  /** Bytes waiting in the pool now. */
  pooledBytes: number;
}

export class BufferPool {
  private readonly free = new Map<number, ArrayBuffer[]>();
  /** Buffers this pool made or took back: only these may move to a worker while a view covers part of them. */
  private readonly owned = new WeakSet<ArrayBuffer>();
  private pooled = 0;
  private allocated = 0;
  private reused = 0;

  /** `maxBytes`: what the pool keeps at most while idle (buffers given back beyond it are dropped). */
  constructor(private readonly maxBytes = 64 * 1024 * 1024) {}

  /** A view of exactly `bytes` bytes over a pooled buffer (its contents are left over: write before reading). */
  take(bytes: number): Buffer {
    if (bytes < MIN_POOLED_BYTES) return Buffer.allocUnsafeSlow(bytes);
    if (this.maxBytes === 0) {
      this.allocated += 1;
      return Buffer.allocUnsafeSlow(bytes);
    }
    const size = Math.ceil(bytes / SIZE_STEP) * SIZE_STEP;
    const buffer = this.free.get(size)?.pop();
    if (buffer !== undefined) {
      this.pooled -= size;
      this.reused += 1;
      return Buffer.from(buffer, 0, bytes);
    }
    this.allocated += 1;
    const fresh = new ArrayBuffer(size);
    this.owned.add(fresh);
    return Buffer.from(fresh, 0, bytes);
  }

  /** Whether `buffer` may be moved to a worker although a view covers only part of it. */
  owns(buffer: ArrayBufferLike): boolean {
    return buffer instanceof ArrayBuffer && this.owned.has(buffer);
  }

  /** Takes back buffers a worker returned (or any no longer read); sizes this pool does not make are dropped. */
  give(buffers: readonly ArrayBuffer[]): void {
    for (const buffer of buffers) {
      const size = buffer.byteLength;
      if (size < MIN_POOLED_BYTES || size % SIZE_STEP !== 0 || this.pooled + size > this.maxBytes) continue;
      const list = this.free.get(size) ?? [];
      list.push(buffer);
      this.free.set(size, list);
      this.owned.add(buffer);
      this.pooled += size;
    }
  }

  get stats(): BufferPoolStats {
    return { allocated: this.allocated, reused: this.reused, pooledBytes: this.pooled };
  }
}

/**
 * The process's pool of image buffers: uploads are read into it, scoring workers return into it.
 * AGIQA_BUFFER_POOL=off turns it off (every image allocated afresh, as before; for comparison).
 */
export const imageBuffers = new BufferPool(/^(off|0|false|no)$/i.test(process.env.AGIQA_BUFFER_POOL ?? '') ? 0 : 64 * 1024 * 1024);
