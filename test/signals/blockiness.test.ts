import { describe, expect, it } from 'vitest';
import { blockiness } from '../../src/signals/blockiness.js';
import { pixelation } from '../../src/signals/pixelation.js';
import { lumaPlanes } from '../../src/signals/planes.js';
import { diffProfiles } from '../../src/signals/profiles.js';
import type { SignalImage } from '../../src/signals/types.js';
import { blockMean, scene } from './synthetic.js';

function profilesOf(image: SignalImage) {
  const { width: w, height: h } = image;
  return diffProfiles(lumaPlanes(image.rgb, w, h, new Float32Array(w * h), new Float32Array((w >> 1) * (h >> 1))).luma);
}

describe('blockiness', () => {
  const img = scene(256, 192, 4);

  it('is ≈ 1 on a clean scene', () => {
    const b = blockiness(profilesOf(img));
    expect(b.gridRatioH).toBeGreaterThan(0.85);
    expect(b.gridRatioH).toBeLessThan(1.2);
    expect(b.gridRatioV).toBeLessThan(1.2);
  });

  it('is high on an 8×8 block-quantised copy aligned with the origin', () => {
    const b = blockiness(profilesOf(blockMean(img, 8)));
    expect(b.gridRatioH).toBeGreaterThan(20);
    expect(b.gridRatioV).toBeGreaterThan(20);
  });

  it('does not align when the blocks are shifted by 4 px, but the best phase still finds them', () => {
    const b = blockiness(profilesOf(blockMean(img, 8, 4)));
    expect(b.gridRatioH).toBeLessThan(1);
    expect(b.gridRatioV).toBeLessThan(1);
    expect(b.bestPhaseRatio).toBeGreaterThan(20);
  });
});

describe('pixelation', () => {
  const img = scene(256, 192, 5);

  it('finds the cell size of a 4× pixelated copy', () => {
    const p = pixelation(profilesOf(blockMean(img, 4)));
    expect(p.period).toBe(4);
    expect(p.strength).toBeGreaterThan(10);
    expect(p.duplicateFraction).toBeGreaterThan(0.7);
  });

  it('finds nothing on the clean scene', () => {
    const p = pixelation(profilesOf(img));
    expect(p.period).toBe(0);
    expect(p.duplicateFraction).toBeLessThan(0.05);
  });
});
