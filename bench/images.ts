// The benches' upload images: a gradient with seeded noise (a PNG of it compresses like a photo's,
// not like a flat fill), and the same PNG made distinct by a text chunk so that no store or cache
// answers it from a previous round.
import { crc32 } from 'node:zlib';
import sharp from 'sharp';

/** side² RGB: red and green ramp along x and y (by `step` pixels per level), blue fixed or a ramp. */
export function noisyGradient(side: number, { step = 4, blue = 'ramp' }: { step?: number; blue?: 'ramp' | number } = {}): Buffer {
  const pixels = Buffer.alloc(side * side * 3);
  let seed = 7;
  for (let i = 0; i < pixels.length; i += 3) {
    const p = i / 3;
    const x = p % side;
    const y = Math.floor(p / side);
    seed = (seed * 1103515245 + 12345) >>> 0;
    const noise = (seed >>> 24) & 31;
    pixels[i] = (x / step + noise) & 255;
    pixels[i + 1] = (y / step + noise) & 255;
    pixels[i + 2] = blue === 'ramp' ? ((x + y) / 8) & 255 : blue;
  }
  return pixels;
}

export function pngOf(pixels: Buffer, side: number): Promise<Buffer> {
  return sharp(pixels, { raw: { width: side, height: side, channels: 3 } }).png().toBuffer();
}

/**
 * The PNG with a tEXt chunk `bench\0<text>` before IEND (identical pixels, another sha256), as the pieces
 * of the file in order: an uploader writes them one after another without joining them.
 */
export function pngWithTextParts(png: Buffer, text: string): Buffer[] {
  const data = Buffer.from(`bench\0${text}`, 'latin1');
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write('tEXt', 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  const iend = png.length - 12;
  return [png.subarray(0, iend), Buffer.concat([head, data, crc]), png.subarray(iend)];
}

/** The same as one buffer of its own (a scorer may take it over). */
export function pngWithText(png: Buffer, text: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(Buffer.concat(pngWithTextParts(png, text)));
}
