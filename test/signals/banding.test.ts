import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { decodeImage } from '../../src/image/index.js';
import { banding, type BandingStats } from '../../src/signals/banding.js';
import { lumaPlanes } from '../../src/signals/planes.js';
import type { SignalImage } from '../../src/signals/types.js';
import { EXAMPLES_DIR } from './golden-cases.js';
import { addNoise, flat } from './synthetic.js';

// Written by training/lite/probe_signals.py --parity-fixture: the numpy definition the banding signals were
// measured with before the port (issue 16). The port must reproduce it, or the pack's inputs drift.
interface ParityFile {
  names: string[];
  cases: { name: string; formula?: [string, number, number, number]; banding: number[] }[];
}
const parity = JSON.parse(readFileSync(new URL('./fixtures/banding-parity.json', import.meta.url), 'utf8')) as ParityFile;

/** The fixture's formula images, pixel for pixel as probe_signals.py `synth` draws them (grey). */
function synth(kind: string, w: number, h: number, q: number): SignalImage {
  const rgb = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let v: number;
      if (kind === 'ramp-x') v = Math.floor((40 + Math.floor((160 * x) / Math.max(1, w - 1))) / q) * q;
      else if (kind === 'ramp-y') v = Math.floor((30 + Math.floor((200 * y) / Math.max(1, h - 1))) / q) * q;
      else if (kind === 'diagonal') v = (x * 7 + y * 13) % 256;
      else if (kind === 'rings') v = 60 + 3 * (Math.floor(((x - (w >> 1)) ** 2 + (y - Math.floor(h / 3)) ** 2) / (q * q * 16)) % 40);
      else throw new Error(`unknown formula ${kind}`);
      rgb.fill(v, 3 * (y * w + x), 3 * (y * w + x) + 3);
    }
  }
  return { rgb, width: w, height: h };
}

function of(image: SignalImage): BandingStats {
  const { width: w, height: h } = image;
  const planes = lumaPlanes(image.rgb, w, h, new Float32Array(w * h), new Float32Array(Math.max(1, w >> 1) * Math.max(1, h >> 1)));
  return banding(planes.luma);
}

// In the feature vector's scaling (band_step ÷ 16), as the fixture holds them.
const asArray = (b: BandingStats): number[] => [b.bandFraction, b.bandStep / 16, b.stepRate, b.flatFraction];

describe('banding', () => {
  it.each(parity.cases.map((c) => [c.name, c] as const))('%s: as probe_signals.py computes it', async (_, c) => {
    const image = c.formula
      ? synth(...c.formula)
      : await decodeImage(new Uint8Array(await readFile(EXAMPLES_DIR + c.name.slice('examples/'.length))), c.name);
    const got = asArray(of(image));
    got.forEach((v, k) => expect(v, parity.names[k]).toBeCloseTo(c.banding[k]!, 12));
  });

  it('tells a gradient quantised to 4-level steps from the same gradient in 1-level steps', () => {
    const smooth = of(synth('ramp-x', 300, 200, 1));
    const banded = of(synth('ramp-x', 300, 200, 4));
    expect(smooth.bandFraction).toBe(0);
    expect(banded.bandFraction).toBeGreaterThan(0.9);
    expect(banded.bandStep).toBe(4);
  });

  it('counts nothing on a flat picture or on noise, and ignores object edges above 48 levels', () => {
    const still = of(flat(64, 48, 120));
    expect([still.bandFraction, still.stepRate, still.flatFraction]).toEqual([0, 0, 1]);
    expect(of(addNoise(flat(128, 128, 128), 20)).stepRate).toBe(0);
    const halves = flat(64, 8, 20);
    for (let i = 0; i < 64 * 8; i++) if (i % 64 >= 32) halves.rgb.fill(200, 3 * i, 3 * i + 3);
    expect(of(halves).stepRate).toBe(0);
  });
});
