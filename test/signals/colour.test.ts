import { describe, expect, it } from 'vitest';
import { colourStats } from '../../src/signals/colour.js';
import type { SignalImage } from '../../src/signals/types.js';
import { flat, mapValues, scene } from './synthetic.js';

const stats = (image: SignalImage) => colourStats(image, new Uint32Array(256), new Uint32Array(768));

describe('colourStats', () => {
  it('gives zero colourfulness, cast and saturation on a grey image', () => {
    const c = stats(flat(40, 30, 128));
    expect(c.colourfulness).toBe(0);
    expect(c.castRg).toBe(0);
    expect(c.castYb).toBe(0);
    expect(c.saturationMean).toBe(0);
  });

  it('computes Hasler–Süsstrunk M of a two-colour image', () => {
    // Half pure red, half pure green: rg = ±255 (σ = 255, μ = 0), yb = 127.5 (σ = 0).
    const img = flat(20, 20, 255, 0, 0);
    for (let i = 0; i < 200; i++) img.rgb.set([0, 255, 0], 3 * i);
    const c = stats(img);
    expect(c.colourfulness).toBeCloseTo(255 + 0.3 * 127.5, 1);
    expect(c.saturationMean).toBe(1);
    expect(c.saturationHigh).toBe(1);
  });

  it('reports a blue cast of the neutrals when blue is lifted', () => {
    const grey = mapValues(scene(128, 128, 1), (v) => v); // scene has neutral-ish and coloured parts
    const neutral = flat(128, 128, 120);
    const castImg = mapValues(neutral, (v, ch) => (ch === 2 ? v + 30 : v));
    const c = stats(castImg);
    expect(c.castYb).toBeCloseTo(-30, 3);
    expect(c.castRg).toBeCloseTo(0, 5);
    expect(stats(grey).colourfulness).toBeGreaterThan(20);
  });
});
