import { describe, expect, it } from 'vitest';
import { LruMap } from '../../../src/model/clip/clip-lru.js';

describe('LruMap', () => {
  it('evicts the least recently used key, a get counting as a use', () => {
    const lru = new LruMap<string, number>(2);
    lru.set('a', 1);
    lru.set('b', 2);
    expect(lru.get('a')).toBe(1);
    lru.set('c', 3);
    expect(lru.has('b')).toBe(false);
    expect(lru.get('a')).toBe(1);
    expect(lru.get('c')).toBe(3);
    expect(lru.size).toBe(2);
  });

  it('refuses a capacity that is not a positive integer', () => {
    expect(() => new LruMap(0)).toThrow('Expected positive integer for capacity but received 0');
    expect(() => new LruMap(1.5)).toThrow(RangeError);
  });
});
