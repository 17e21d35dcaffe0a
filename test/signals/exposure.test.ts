import { describe, expect, it } from 'vitest';
import { colourStats } from '../../src/signals/colour.js';
import { contrast, exposure, posterisation } from '../../src/signals/exposure.js';
import type { SignalImage } from '../../src/signals/types.js';
import { flat, mapValues, scene } from './synthetic.js';

function hist(image: SignalImage) {
  const lumaHist = new Uint32Array(256);
  const channelHist = new Uint32Array(768);
  colourStats(image, lumaHist, channelHist);
  return { lumaHist, channelHist };
}

describe('exposure', () => {
  it('clips ~50% on a half-white image', () => {
    const img = flat(64, 64, 120);
    img.rgb.fill(255, 0, img.rgb.length / 2);
    const h = hist(img);
    const e = exposure(h.lumaHist, h.channelHist);
    expect(e.lumaClipHigh).toBeCloseTo(0.5, 2);
    expect(e.clipHigh).toEqual([0.5, 0.5, 0.5]);
    expect(e.lumaClipLow).toBe(0);
  });

  it('clips shadows per channel', () => {
    const h = hist(flat(32, 32, 3, 100, 100));
    const e = exposure(h.lumaHist, h.channelHist);
    expect(e.clipLow).toEqual([1, 0, 0]);
  });
});

describe('contrast', () => {
  it('is zero on a flat image and the std of a two-level image', () => {
    expect(contrast(hist(flat(16, 16, 90)).lumaHist).rms).toBe(0);
    const img = flat(16, 16, 50);
    img.rgb.fill(150, 0, img.rgb.length / 2);
    const c = contrast(hist(img).lumaHist);
    expect(c.rms).toBeCloseTo(50, 1);
    expect(c.mean).toBeCloseTo(100, 1);
    expect(c.p1).toBe(50);
    expect(c.p99).toBe(150);
  });
});

describe('posterisation', () => {
  it('has full occupancy on a smooth scene and low occupancy when posterised', () => {
    const img = scene(192, 192, 8);
    const clean = hist(img);
    const post = hist(mapValues(img, (v) => Math.round(v / 32) * 32));
    expect(posterisation(clean.lumaHist, clean.channelHist).channelOccupancy).toBeGreaterThan(0.9);
    const p = posterisation(post.lumaHist, post.channelHist);
    expect(p.channelOccupancy).toBeLessThan(0.1);
  });

  it('finds comb gaps in a contrast-stretched histogram', () => {
    const img = scene(192, 192, 8);
    const clean = hist(img);
    const stretched = hist(mapValues(img, (v) => Math.round((v - 40) * 1.6)));
    expect(posterisation(clean.lumaHist, clean.channelHist).combGaps).toBeLessThan(0.05);
    expect(posterisation(stretched.lumaHist, stretched.channelHist).combGaps).toBeGreaterThan(0.25);
  });
});
