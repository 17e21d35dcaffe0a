// Tiny real PNGs for the ComfyUI tests: made with sharp, with tEXt chunks added the way ComfyUI's
// SaveImage writes them (`prompt` = the API graph), plus a `mos` chunk the test scorer reads.
import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { agiqaError } from '../../../src/errors/index.js';
import { readPngText, isPng } from '../../../src/image/index.js';
import type { ScoreRequest, Scorer } from '../../../src/scoring/scorer.js';
import { fakeResult } from '../../fixtures/server/fake-scorer.js';
import type { ScoreResult } from '../../../src/scoring/score-result.js';

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
  return Buffer.concat([head, data, crc]);
}

/** A w×h PNG of one colour with tEXt chunks inserted after IHDR. */
export async function pngWithText(colour: number, text: Record<string, string>, size = 8): Promise<Buffer> {
  const png = await sharp({ create: { width: size, height: size, channels: 3, background: { r: colour & 255, g: (colour >> 8) & 255, b: (colour >> 16) & 255 } } })
    .png()
    .toBuffer();
  const ihdrEnd = 8 + 8 + 13 + 4;
  const chunks = Object.entries(text).map(([key, value]) => chunk('tEXt', Buffer.concat([Buffer.from(key, 'latin1'), Buffer.from([0]), Buffer.from(value, 'utf8')])));
  return Buffer.concat([png.subarray(0, ihdrEnd), ...chunks, png.subarray(ihdrEnd)]);
}

/** A PNG of the given RGB pixels (size×size) with tEXt chunks, like PIL writes for Save image with score. */
export async function pngOfPixels(pixels: Uint8Array, size: number, text: Record<string, string>): Promise<Buffer> {
  const png = await sharp(pixels, { raw: { width: size, height: size, channels: 3 } }).png().toBuffer();
  const ihdrEnd = 8 + 8 + 13 + 4;
  const chunks = Object.entries(text).map(([key, value]) => chunk('tEXt', Buffer.concat([Buffer.from(key, 'latin1'), Buffer.from([0]), Buffer.from(value, 'utf8')])));
  return Buffer.concat([png.subarray(0, ihdrEnd), ...chunks, png.subarray(ihdrEnd)]);
}

/**
 * A Scorer for bridge tests: MOS from the image's `mos` text chunk (default 3.5), sha256 of the bytes,
 * AGQ_ERR_IMAGE_CORRUPT for bytes that are not a PNG — like the real scorer on a damaged file.
 */
export class TextChunkScorer implements Scorer {
  readonly pack = { name: 'fake', version: '1.0.0' };
  readonly requests: ScoreRequest[] = [];
  private inFlight = 0;
  maxInFlight = 0;

  constructor(private readonly delayMs = 0) {}

  async score(request: ScoreRequest): Promise<ScoreResult> {
    this.requests.push(request);
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
      if (!isPng(request.image)) throw agiqaError('AGQ_ERR_IMAGE_CORRUPT', { file: request.name, detail: 'not a PNG' });
      const { text } = readPngText(request.image);
      const mos = text.mos === undefined ? 3.5 : Number(text.mos);
      return fakeResult({ mos, sha256: createHash('sha256').update(request.image).digest('hex'), prompt: request.prompt ?? null });
    } finally {
      this.inFlight -= 1;
    }
  }

  async scoreBatch(requests: ScoreRequest[]): Promise<ScoreResult[]> {
    return Promise.all(requests.map((request) => this.score(request)));
  }

  load(): { queued: number; running: number } {
    return { queued: 0, running: this.inFlight };
  }

  async close(): Promise<void> {}

  /** How many times each file name was scored. */
  countsByName(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const request of this.requests) counts.set(request.name, (counts.get(request.name) ?? 0) + 1);
    return counts;
  }
}
