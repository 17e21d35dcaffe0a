import { describe, expect, it } from 'vitest';
import { ClientGate } from '../../src/server/client-gate.js';

describe('ClientGate', () => {
  it('lets each address hold up to its limit, and frees a place when a request leaves', () => {
    const gate = new ClientGate(2);
    expect([gate.enter('a'), gate.enter('a'), gate.enter('a')]).toEqual([true, true, false]);
    expect(gate.enter('b')).toBe(true);
    gate.leave('a');
    expect(gate.count('a')).toBe(1);
    expect(gate.enter('a')).toBe(true);
    gate.leave('a');
    gate.leave('a');
    gate.leave('a');
    expect(gate.count('a')).toBe(0);
    expect([gate.enter('a'), gate.enter('a')]).toEqual([true, true]);
  });
});
