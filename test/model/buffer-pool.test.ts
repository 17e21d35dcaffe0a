// The pool of image buffers: a buffer given back is taken again for the next image of a similar size,
// small ones are never pooled, the pool keeps at most its bound, and it can be turned off.
import { describe, expect, it } from 'vitest';
import { BufferPool, MIN_POOLED_BYTES } from '../../src/model/buffer-pool.js';

const MB = 1024 * 1024;

describe('BufferPool', () => {
  it('takes back a returned buffer and serves the next image of a similar size from it', () => {
    const pool = new BufferPool(16 * MB);
    const first = pool.take(3 * MB + 5);
    expect(first.length).toBe(3 * MB + 5);
    expect(pool.owns(first.buffer)).toBe(true);
    expect(pool.stats).toEqual({ allocated: 1, reused: 0, pooledBytes: 0 });
    pool.give([first.buffer as ArrayBuffer]);
    expect(pool.stats.pooledBytes).toBe(first.buffer.byteLength);
    // A few bytes more or less (a PNG with another text chunk) fits the same buffer.
    const second = pool.take(3 * MB + 100);
    expect(second.buffer).toBe(first.buffer);
    expect(pool.stats).toEqual({ allocated: 1, reused: 1, pooledBytes: 0 });
    // Another size class is a new buffer.
    expect(pool.take(5 * MB).buffer).not.toBe(first.buffer);
    expect(pool.stats.allocated).toBe(2);
  });

  it('never pools small buffers, buffers it could not have made, or more than its bound', () => {
    const pool = new BufferPool(4 * MB);
    const small = pool.take(MIN_POOLED_BYTES - 1);
    expect(pool.owns(small.buffer)).toBe(false);
    pool.give([new ArrayBuffer(MIN_POOLED_BYTES + 1), new ArrayBuffer(1024)]);
    expect(pool.stats.pooledBytes).toBe(0);
    pool.give([new ArrayBuffer(3 * MB), new ArrayBuffer(3 * MB)]);
    expect(pool.stats.pooledBytes).toBe(3 * MB);
  });

  it('with a bound of 0 it allocates every buffer afresh (the opt-out)', () => {
    const pool = new BufferPool(0);
    const buffer = pool.take(2 * MB);
    expect(buffer.buffer.byteLength).toBe(2 * MB);
    expect(pool.owns(buffer.buffer)).toBe(false);
    pool.give([buffer.buffer as ArrayBuffer]);
    expect(pool.take(2 * MB).buffer).not.toBe(buffer.buffer);
    expect(pool.stats.pooledBytes).toBe(0);
  });
});
