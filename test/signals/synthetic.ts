// Deterministic synthetic images for signal tests and the benchmark: a "natural-looking" scene
// (sky gradient, shaded shapes with hard edges, textured patches, faint noise) and simple
// distortions whose effect on each signal is known.
import { seededRandom } from '../../src/evaluation/datasets.js';
import type { SignalImage } from '../../src/signals/index.js';

/** Deterministic PRNG (the project's mulberry32) so fixtures are reproducible without files. */
export const rng = seededRandom;

/** Standard normal via Box–Muller. */
export function gauss(rand: () => number): number {
  const u = Math.max(1e-12, rand());
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

const clamp8 = (v: number): number => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));

export function flat(width: number, height: number, r: number, g = r, b = r): SignalImage {
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) {
    rgb[3 * i] = r;
    rgb[3 * i + 1] = g;
    rgb[3 * i + 2] = b;
  }
  return { rgb, width, height };
}

/** A scene with smooth areas, hard edges and texture, plus faint (σ ≈ 1) noise. */
export function scene(width: number, height: number, seed = 1): SignalImage {
  const rand = rng(seed);
  const f = new Float32Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const t = y / Math.max(1, height - 1);
    for (let x = 0; x < width; x++) {
      const i = 3 * (y * width + x);
      f[i] = 110 + 60 * t;
      f[i + 1] = 150 + 40 * t;
      f[i + 2] = 215 - 30 * t;
    }
  }
  const shapes = 40;
  for (let s = 0; s < shapes; s++) {
    const cx = rand() * width;
    const cy = rand() * height;
    const rx = (0.04 + 0.18 * rand()) * width;
    const ry = (0.04 + 0.18 * rand()) * height;
    const round = rand() < 0.5;
    const col = [40 + 180 * rand(), 40 + 180 * rand(), 40 + 180 * rand()];
    const textured = rand() < 0.5;
    const fx = 0.05 + 0.6 * rand();
    const fy = 0.05 + 0.6 * rand();
    const amp = 10 + 30 * rand();
    const shade = (rand() - 0.5) * 60;
    const x0 = Math.max(0, Math.floor(cx - rx));
    const x1 = Math.min(width - 1, Math.ceil(cx + rx));
    const y0 = Math.max(0, Math.floor(cy - ry));
    const y1 = Math.min(height - 1, Math.ceil(cy + ry));
    for (let y = y0; y <= y1; y++) {
      for (let x = x0; x <= x1; x++) {
        const u = (x - cx) / rx;
        const v = (y - cy) / ry;
        if (round ? u * u + v * v > 1 : Math.abs(u) > 1 || Math.abs(v) > 1) continue;
        let d = shade * v;
        if (textured) d += amp * Math.sin(fx * x + 1.3 * Math.sin(0.05 * y)) * Math.sin(fy * y);
        const i = 3 * (y * width + x);
        f[i] = col[0]! + d;
        f[i + 1] = col[1]! + d;
        f[i + 2] = col[2]! + d;
      }
    }
  }
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0; i < rgb.length; i++) rgb[i] = clamp8(f[i]! + gauss(rand));
  return { rgb, width, height };
}

export function addNoise(image: SignalImage, sigma: number, seed = 7): SignalImage {
  const rand = rng(seed);
  const rgb = new Uint8Array(image.rgb.length);
  for (let i = 0; i < rgb.length; i++) rgb[i] = clamp8(image.rgb[i]! + sigma * gauss(rand));
  return { ...image, rgb };
}

/** (2r+1)² box blur, edges clamped. */
export function boxBlur(image: SignalImage, r: number): SignalImage {
  const { width: w, height: h } = image;
  const out = new Uint8Array(image.rgb.length);
  const k = (2 * r + 1) * (2 * r + 1);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let dy = -r; dy <= r; dy++) {
          const yy = Math.min(h - 1, Math.max(0, y + dy));
          for (let dx = -r; dx <= r; dx++) {
            const xx = Math.min(w - 1, Math.max(0, x + dx));
            s += image.rgb[3 * (yy * w + xx) + c]!;
          }
        }
        out[3 * (y * w + x) + c] = Math.round(s / k);
      }
    }
  }
  return { ...image, rgb: out };
}

/** Replaces every `cell`×`cell` block (anchored at `offset`) by its mean: JPEG-like flat blocks / pixelation. */
export function blockMean(image: SignalImage, cell: number, offset = 0): SignalImage {
  const { width: w, height: h } = image;
  const out = new Uint8Array(image.rgb.length);
  for (let by = -offset; by < h; by += cell) {
    for (let bx = -offset; bx < w; bx += cell) {
      const y0 = Math.max(0, by);
      const x0 = Math.max(0, bx);
      const y1 = Math.min(h, by + cell);
      const x1 = Math.min(w, bx + cell);
      for (let c = 0; c < 3; c++) {
        let s = 0;
        for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) s += image.rgb[3 * (y * w + x) + c]!;
        const m = Math.round(s / ((y1 - y0) * (x1 - x0)));
        for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) out[3 * (y * w + x) + c] = m;
      }
    }
  }
  return { ...image, rgb: out };
}

/** Maps every channel value through f. */
export function mapValues(image: SignalImage, f: (v: number, channel: number) => number): SignalImage {
  const rgb = new Uint8Array(image.rgb.length);
  for (let i = 0; i < rgb.length; i++) rgb[i] = clamp8(f(image.rgb[i]!, i % 3));
  return { ...image, rgb };
}

/** Unsharp mask: x + amount·(x − box_r(x)). */
export function unsharp(image: SignalImage, r: number, amount: number): SignalImage {
  const blurred = boxBlur(image, r);
  const rgb = new Uint8Array(image.rgb.length);
  for (let i = 0; i < rgb.length; i++) rgb[i] = clamp8(image.rgb[i]! + amount * (image.rgb[i]! - blurred.rgb[i]!));
  return { ...image, rgb };
}
