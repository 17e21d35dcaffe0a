// The luminance planes every signal works on: native luma, computed once, and 2×/4×
// box-downsampled copies (the 2× one is accumulated in the same pass over the pixels).
import type { Plane } from './types.js';

/**
 * Native luma Y = (77R + 150G + 29B + 128) >> 8 (integer, so equal neighbours stay exactly equal,
 * which posterisation and pixelation cues rely on) into `out`, and its 2×2 box average into `half`
 * (odd trailing rows/columns dropped; a 1-pixel dimension stays 1).
 */
export function lumaPlanes(
  rgb: Uint8Array,
  width: number,
  height: number,
  out: Float32Array,
  half: Float32Array,
): { luma: Plane; half: Plane } {
  const hw = Math.max(1, width >> 1);
  const hh = Math.max(1, height >> 1);
  if (width < 2 || height < 2) {
    for (let i = 0, j = 0; i < width * height; i++, j += 3) {
      out[i] = (77 * rgb[j]! + 150 * rgb[j + 1]! + 29 * rgb[j + 2]! + 128) >> 8;
    }
    return { luma: { data: out, width, height }, half: downsample2({ data: out, width, height }, half) };
  }
  const pairs = height >> 1;
  for (let y = 0; y < height; y++) {
    let i = y * width;
    let j = 3 * i;
    const end = i + width;
    for (; i < end; i++, j += 3) out[i] = (77 * rgb[j]! + 150 * rgb[j + 1]! + 29 * rgb[j + 2]! + 128) >> 8;
    // Every second row completes one row of the 2× plane while both rows are still in cache.
    if ((y & 1) === 1 && y >> 1 < pairs) {
      const top = (y - 1) * width;
      const o = (y >> 1) * hw;
      for (let x = 0; x < hw; x++) {
        const s = top + 2 * x;
        half[o + x] = 0.25 * (out[s]! + out[s + 1]! + out[s + width]! + out[s + width + 1]!);
      }
    }
  }
  return { luma: { data: out, width, height }, half: { data: half, width: hw, height: hh } };
}

/** 2×2 box average; odd trailing rows/columns are dropped, a 1-pixel dimension stays 1. */
export function downsample2(src: Plane, out: Float32Array): Plane {
  const { width: w, height: h, data } = src;
  const ow = Math.max(1, w >> 1);
  const oh = Math.max(1, h >> 1);
  const dx = w > 1 ? 1 : 0;
  const dy = h > 1 ? w : 0;
  for (let y = 0; y < oh; y++) {
    let s = (h > 1 ? 2 * y : 0) * w;
    let o = y * ow;
    for (let x = 0; x < ow; x++, o++, s += 2 * dx) {
      out[o] = 0.25 * (data[s]! + data[s + dx]! + data[s + dy]! + data[s + dy + dx]!);
    }
  }
  return { data: out, width: ow, height: oh };
}
