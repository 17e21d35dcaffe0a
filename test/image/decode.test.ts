import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { AgiqaError } from '../../src/errors/index.js';
import { decodeImage, DEFAULT_IMAGE_LIMITS, type DecodedImage } from '../../src/image/index.js';
import { forgedHeaderPng, iTextChunk, textChunk, withChunks } from '../fixtures/image/png-chunks.js';

const fixture = (name: string): Buffer => readFileSync(new URL(`../fixtures/image/${name}`, import.meta.url));

function gradient(width: number, height: number, channels: 3 | 4 = 3): Buffer {
  const data = Buffer.alloc(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * channels;
      data[o] = (x * 255) / (width - 1);
      data[o + 1] = (y * 255) / (height - 1);
      data[o + 2] = 128;
      if (channels === 4) data[o + 3] = 255;
    }
  }
  return data;
}

const raw = (width: number, height: number, channels: 3 | 4 = 3) =>
  sharp(gradient(width, height, channels), { raw: { width, height, channels } });

async function expectAgiqaError(promise: Promise<unknown>, code: string, file: string): Promise<AgiqaError> {
  const error = await promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AgiqaError);
  expect((error as AgiqaError).code).toBe(code);
  expect((error as AgiqaError).message).toContain(file);
  return error as AgiqaError;
}

function pixel(image: DecodedImage, x: number, y: number): number[] {
  const o = (y * image.width + x) * 3;
  return [image.rgb[o]!, image.rgb[o + 1]!, image.rgb[o + 2]!];
}

describe('decodeImage: formats', () => {
  it('decodes an RGB PNG to exact pixels, with hash, size and format', async () => {
    const png = await raw(16, 8).png().toBuffer();
    const image = await decodeImage(png, 'g.png');
    expect([image.width, image.height, image.format, image.bytes, image.rgb.length]).toEqual([16, 8, 'png', png.length, 16 * 8 * 3]);
    expect(image.rgb).toEqual(new Uint8Array(gradient(16, 8)));
    expect(image.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(image.metadata).toEqual({ source: null, prompt: null, negativePrompt: null, problem: null, text: {} });
  });

  it('decodes JPEG, WebP, TIFF and AVIF to 3-channel RGB', async () => {
    for (const [format, encode] of [
      ['jpeg', (s: sharp.Sharp) => s.jpeg()],
      ['webp', (s: sharp.Sharp) => s.webp()],
      ['tiff', (s: sharp.Sharp) => s.tiff()],
      ['avif', (s: sharp.Sharp) => s.avif({ effort: 0 })],
    ] as const) {
      const image = await decodeImage(await encode(raw(16, 16)).toBuffer(), `g.${format}`);
      expect([image.format, image.width, image.height, image.rgb.length]).toEqual([format, 16, 16, 16 * 16 * 3]);
    }
  });

  it('accepts a plain Uint8Array and expands greyscale (with alpha) to RGB', async () => {
    const grey = Buffer.from([0, 0, 200, 255]); // 2×1 grey+alpha: transparent, then opaque grey 200
    const png = await sharp(grey, { raw: { width: 2, height: 1, channels: 2 } }).png().toBuffer();
    const image = await decodeImage(new Uint8Array(png), 'grey.png');
    expect(Array.from(image.rgb)).toEqual([255, 255, 255, 200, 200, 200]);
  });

  it('reduces a 16-bit PNG to 8 bits per channel', async () => {
    const png16 = await raw(8, 8).toColourspace('rgb16').png().toBuffer();
    expect((await sharp(png16).metadata()).depth).toBe('ushort');
    const image = await decodeImage(png16, 'deep.png');
    expect(image.rgb).toEqual(new Uint8Array(gradient(8, 8)));
  });

  it('converts a CMYK JPEG to sRGB', async () => {
    const red = sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 220, g: 30, b: 30 } } });
    const cmyk = await red.toColourspace('cmyk').jpeg({ quality: 95 }).toBuffer();
    expect((await sharp(cmyk).metadata()).space).toBe('cmyk');
    const image = await decodeImage(cmyk, 'print.jpg');
    const [r, g, b] = pixel(image, 4, 4);
    expect(image.rgb.length).toBe(8 * 8 * 3);
    expect(r).toBeGreaterThan(150);
    expect(g).toBeLessThan(90);
    expect(b).toBeLessThan(90);
  });

  it('flattens alpha onto white', async () => {
    const rgba = Buffer.alloc(2 * 1 * 4);
    rgba.set([255, 0, 0, 0], 0); // fully transparent red → white
    rgba.set([0, 0, 255, 128], 4); // half-transparent blue → light blue
    const png = await sharp(rgba, { raw: { width: 2, height: 1, channels: 4 } }).png().toBuffer();
    const image = await decodeImage(png, 'alpha.png');
    expect(pixel(image, 0, 0)).toEqual([255, 255, 255]);
    const [r, g, b] = pixel(image, 1, 0);
    expect(b).toBe(255);
    expect(r).toBeGreaterThanOrEqual(126);
    expect(r).toBeLessThanOrEqual(128);
    expect(g).toBe(r);
  });

  it('applies EXIF orientation 6 (rotate 90°): width and height swap', async () => {
    const jpeg = await raw(20, 10).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    expect((await sharp(jpeg).metadata()).orientation).toBe(6);
    const image = await decodeImage(jpeg, 'rotated.jpg');
    expect([image.width, image.height]).toEqual([10, 20]);
  });

  for (const format of ['gif', 'webp'] as const) {
    it(`takes the first frame of an animated ${format.toUpperCase()}`, async () => {
      const [w, h, pages] = [8, 8, 3];
      const frames = Buffer.alloc(w * h * pages * 4);
      const colours = [
        [255, 0, 0],
        [0, 255, 0],
        [0, 0, 255],
      ];
      for (let p = 0; p < pages; p++) {
        for (let i = 0; i < w * h; i++) frames.set([...colours[p]!, 255], (p * w * h + i) * 4);
      }
      const animated = await sharp(frames, { raw: { width: w, height: h * pages, channels: 4, pageHeight: h } })
        [format]({ loop: 0, delay: [100, 100, 100], ...(format === 'webp' ? { lossless: true } : {}) })
        .toBuffer();
      expect((await sharp(animated).metadata()).pages).toBe(3);
      const image = await decodeImage(animated, `anim.${format}`);
      expect([image.format, image.width, image.height]).toEqual([format, w, h]);
      expect(pixel(image, 0, 0)).toEqual([255, 0, 0]);
      expect(pixel(image, 7, 7)).toEqual([255, 0, 0]);
    });
  }
});

describe('decodeImage: bad input', () => {
  it('refuses 0 bytes', async () => {
    await expectAgiqaError(decodeImage(new Uint8Array(0), 'empty.png'), 'AGQ_ERR_IMAGE_EMPTY', 'empty.png');
  });

  it('refuses more bytes than maxBytes', async () => {
    const png = await raw(8, 8).png().toBuffer();
    await expectAgiqaError(
      decodeImage(png, 'big.png', { ...DEFAULT_IMAGE_LIMITS, maxBytes: 10 }),
      'AGQ_ERR_IMAGE_TOO_LARGE',
      'big.png',
    );
  });

  it('refuses a text file named .png as unsupported', async () => {
    const error = await expectAgiqaError(
      decodeImage(Buffer.from('hello, I am not an image\n'), 'notes.png'),
      'AGQ_ERR_IMAGE_UNSUPPORTED',
      'notes.png',
    );
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('refuses a truncated PNG as corrupt, with the sharp error as cause', async () => {
    const png = await raw(64, 64).png({ compressionLevel: 0 }).toBuffer();
    const error = await expectAgiqaError(
      decodeImage(png.subarray(0, Math.floor(png.length / 2)), 'cut.png'),
      'AGQ_ERR_IMAGE_CORRUPT',
      'cut.png',
    );
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('refuses a truncated JPEG as corrupt', async () => {
    const jpeg = await raw(64, 64).jpeg().toBuffer();
    await expectAgiqaError(decodeImage(jpeg.subarray(0, Math.floor(jpeg.length * 0.6)), 'cut.jpg'), 'AGQ_ERR_IMAGE_CORRUPT', 'cut.jpg');
  });

  it('refuses a 30000×30000 PNG bomb from its header, before decoding', async () => {
    const bomb = forgedHeaderPng(30000, 30000);
    expect(bomb.length).toBeLessThan(200);
    const error = await expectAgiqaError(decodeImage(bomb, 'bomb.png'), 'AGQ_ERR_IMAGE_TOO_MANY_PIXELS', 'bomb.png');
    expect(error.message).toContain('30000×30000');
    expect(error.cause).toBeUndefined(); // refused by our header check, not by a failed sharp decode
  });

  it('refuses pixels over a lowered maxPixels', async () => {
    const png = await raw(16, 16).png().toBuffer();
    await expectAgiqaError(
      decodeImage(png, 'wide.png', { ...DEFAULT_IMAGE_LIMITS, maxPixels: 255 }),
      'AGQ_ERR_IMAGE_TOO_MANY_PIXELS',
      'wide.png',
    );
  });

  it('refuses SVG (sharp can read it, the scorer does not accept it)', async () => {
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"><rect width="4" height="4"/></svg>');
    await expectAgiqaError(decodeImage(svg, 'vector.png'), 'AGQ_ERR_IMAGE_UNSUPPORTED', 'vector.png');
  });
});

describe('decodeImage: embedded metadata', () => {
  it('a real ComfyUI SaveImage PNG (downscaled) carries its own prompt', async () => {
    const image = await decodeImage(fixture('comfyui-sdxl-48.png'), 'comfyui-sdxl-48.png');
    expect([image.width, image.height]).toEqual([48, 48]);
    expect(image.metadata.source).toBe('comfyui');
    expect(image.metadata.prompt).toMatch(/^evening sunset scenery blue sky nature, glass bottle with a galaxy in it/);
    expect(image.metadata.negativePrompt).toBe('text, watermark');
    expect(Object.keys(image.metadata.text)).toEqual(['prompt']);
  });

  it('a real ComfyUI Flux PNG: prompt through SamplerCustomAdvanced', async () => {
    const image = await decodeImage(fixture('comfyui-flux-48.png'), 'comfyui-flux-48.png');
    expect(image.metadata.source).toBe('comfyui');
    expect(image.metadata.prompt).toMatch(/^cute anime girl with massive fluffy fennec ears/);
  });

  it('A1111 parameters in a PNG iTXt chunk', async () => {
    const png = withChunks(await raw(8, 8).png().toBuffer(), [
      iTextChunk('parameters', 'ein Café\nNegative prompt: Regen\nSteps: 20, Seed: 7'),
    ]);
    const image = await decodeImage(png, 'a1111.png');
    expect(image.metadata).toMatchObject({ source: 'a1111', prompt: 'ein Café', negativePrompt: 'Regen' });
  });

  it('InvokeAI metadata in a PNG tEXt chunk', async () => {
    const png = withChunks(await raw(8, 8).png().toBuffer(), [
      textChunk('invokeai_metadata', JSON.stringify({ positive_prompt: 'a koi pond', negative_prompt: 'text' })),
    ]);
    const image = await decodeImage(png, 'invoke.png');
    expect(image.metadata).toMatchObject({ source: 'invokeai', prompt: 'a koi pond', negativePrompt: 'text' });
  });

  it('A1111 JPEG: parameters written by sharp into EXIF UserComment round-trip', async () => {
    const parameters = 'a snowy owl,\nstudio light\nNegative prompt: cartoon\nSteps: 25, Sampler: DPM++ 2M, Seed: 99';
    const jpeg = await raw(8, 8).withExif({ IFD2: { UserComment: parameters } }).jpeg().toBuffer();
    const image = await decodeImage(jpeg, 'a1111.jpg');
    expect(image.metadata.text.parameters).toBe(parameters);
    expect(image.metadata).toMatchObject({ source: 'a1111', prompt: 'a snowy owl,\nstudio light', negativePrompt: 'cartoon' });
  });

  it('A1111 JPEG: UNICODE (UTF-16BE, as piexif writes it) UserComment', async () => {
    const parameters = 'ein Bergsee 🏔\nNegative prompt: Nebel\nSteps: 20, Seed: 1';
    const jpeg = insertExif(await raw(8, 8).jpeg().toBuffer(), unicodeUserCommentExif(parameters));
    const image = await decodeImage(jpeg, 'forge.jpg');
    expect(image.metadata).toMatchObject({ source: 'a1111', prompt: 'ein Bergsee 🏔', negativePrompt: 'Nebel' });
  });

  it('ComfyUI WebP: prompt:/workflow: in EXIF Model/Make', async () => {
    const graph = { '1': { class_type: 'CLIPTextEncode', inputs: { text: 'webp prompt', clip: ['2', 1] } }, '3': { class_type: 'KSampler', inputs: { positive: ['1', 0] } } };
    const webp = await raw(8, 8)
      .withExif({ IFD0: { Model: `prompt:${JSON.stringify(graph)}`, Make: 'workflow:{"nodes":[]}' } })
      .webp()
      .toBuffer();
    const image = await decodeImage(webp, 'comfy.webp');
    expect(image.metadata).toMatchObject({ source: 'comfyui', prompt: 'webp prompt', negativePrompt: null });
    expect(image.metadata.text.workflow).toBe('{"nodes":[]}');
  });
});

// A big-endian TIFF with IFD0 → Exif IFD → UserComment "UNICODE\0" + UTF-16BE, as A1111 writes through piexif.
function unicodeUserCommentExif(text: string): Buffer {
  const comment = Buffer.concat([Buffer.from('UNICODE\0', 'latin1'), Buffer.from(text, 'utf16le').swap16()]);
  const tiff = Buffer.alloc(8 + 18 + 18 + comment.length);
  tiff.write('MM', 0, 'latin1');
  tiff.writeUInt16BE(42, 2);
  tiff.writeUInt32BE(8, 4);
  tiff.writeUInt16BE(1, 8); // IFD0: one entry
  tiff.writeUInt16BE(0x8769, 10); // ExifIFD pointer
  tiff.writeUInt16BE(4, 12);
  tiff.writeUInt32BE(1, 14);
  tiff.writeUInt32BE(26, 18);
  tiff.writeUInt32BE(0, 22);
  tiff.writeUInt16BE(1, 26); // Exif IFD: one entry
  tiff.writeUInt16BE(0x9286, 28); // UserComment, UNDEFINED
  tiff.writeUInt16BE(7, 30);
  tiff.writeUInt32BE(comment.length, 32);
  tiff.writeUInt32BE(44, 36);
  tiff.writeUInt32BE(0, 40);
  comment.copy(tiff, 44);
  return Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
}

function insertExif(jpeg: Buffer, exif: Buffer): Buffer {
  const marker = Buffer.from([0xff, 0xe1, 0, 0]);
  marker.writeUInt16BE(exif.length + 2, 2);
  return Buffer.concat([jpeg.subarray(0, 2), marker, exif, jpeg.subarray(2)]);
}

describe('decodeImage above the working budget (bounded memory per image)', () => {
  it('decodes the centred window at native resolution, pixel for pixel, and reports the whole size', async () => {
    const png = await raw(120, 60).png().toBuffer();
    const whole = await decodeImage(png, 'big.png');
    expect(whole).toMatchObject({ width: 120, height: 60, source: { width: 120, height: 60 }, reduced: undefined });
    const windowed = await decodeImage(png, 'big.png', DEFAULT_IMAGE_LIMITS, { workingPixels: 1800 });
    // 1800 px with the image's 2:1 aspect: 60×30, centred at (30, 15).
    expect(windowed).toMatchObject({ width: 60, height: 30, source: { width: 120, height: 60 }, reduced: 'crop' });
    for (const [x, y] of [[0, 0], [59, 29], [17, 11]] as const) expect(pixel(windowed, x, y)).toEqual(pixel(whole, x + 30, y + 15));
  });

  it('cuts the window before EXIF rotation: the same pixels as rotating first', async () => {
    const jpeg = await raw(80, 40).jpeg({ quality: 100 }).withMetadata({ orientation: 6 }).toBuffer();
    const whole = await decodeImage(jpeg, 'turned.jpg');
    expect(whole).toMatchObject({ width: 40, height: 80 });
    const windowed = await decodeImage(jpeg, 'turned.jpg', DEFAULT_IMAGE_LIMITS, { workingPixels: 800 });
    expect(windowed).toMatchObject({ width: 20, height: 40, source: { width: 40, height: 80 }, reduced: 'crop' });
    for (const [x, y] of [[0, 0], [19, 39], [7, 21]] as const) {
      const [a, b] = [pixel(windowed, x, y), pixel(whole, x + 10, y + 20)];
      for (let c = 0; c < 3; c++) expect(Math.abs(a[c]! - b[c]!)).toBeLessThanOrEqual(2);
    }
  });

  it("shrinks the whole image to the budget with 'shrink' (CLIP packs)", async () => {
    const png = await raw(200, 100).png().toBuffer();
    const shrunk = await decodeImage(png, 'big.png', DEFAULT_IMAGE_LIMITS, { workingPixels: 5000, oversize: 'shrink' });
    expect(shrunk).toMatchObject({ width: 100, height: 50, source: { width: 200, height: 100 }, reduced: 'shrink' });
    expect(shrunk.rgb.length).toBe(100 * 50 * 3);
  });
});
