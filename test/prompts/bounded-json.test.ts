import { describe, expect, it } from 'vitest';
import { parseBoundedJson } from '../../src/prompts/bounded-json.js';

describe('parseBoundedJson', () => {
  it('parses JSON within the nesting limit; brackets inside strings do not count', () => {
    expect(parseBoundedJson('{"a":[[1]]}', 'x', 3)).toEqual({ ok: true, value: { a: [[1]] } });
    expect(parseBoundedJson('{"a":"[[[[[\\"[[["}', 'x', 1)).toEqual({ ok: true, value: { a: '[[[[["[[[' } });
  });

  it('refuses deeper nesting unparsed, naming what it was', () => {
    expect(parseBoundedJson('{"a":[[1]]}', 'ComfyUI prompt', 2)).toEqual({ ok: false, problem: 'the ComfyUI prompt JSON nests deeper than 2 levels' });
  });

  it('text that is not JSON is no problem, just not JSON', () => {
    expect(parseBoundedJson('a cat, Steps: 20', 'x')).toEqual({ ok: false, problem: null });
    expect(parseBoundedJson('{', 'x')).toEqual({ ok: false, problem: null });
  });
});
