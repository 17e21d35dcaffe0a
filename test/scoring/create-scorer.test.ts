// The lite pack through createScorer's worker threads: an image handed over moves to the worker
// (the caller's view is detached, no copy), anything else is copied and left intact, and a hash the
// caller already computed is used instead of hashing again.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImage } from '../../src/image/index.js';
import { createScorer, imageBuffers, type Scorer } from '../../src/scoring/index.js';

const photo = readFileSync(new URL('../../examples/coffee.png', import.meta.url));
/** A copy of the photo that owns its whole ArrayBuffer (readFileSync may hand out a pooled slice). */
const ownCopy = (): Uint8Array => new Uint8Array(photo);

describe('createScorer (lite)', () => {
  let scorer: Scorer;
  beforeAll(async () => {
    scorer = await createScorer({ pack: 'lite', workers: 1, threadsPerWorker: 1 });
  });
  afterAll(async () => {
    await scorer.close();
  });

  it('moves a handed-over buffer to the worker and scores it exactly like a copied one', async () => {
    const copied = ownCopy();
    const handed = ownCopy();
    const kept = await scorer.score({ image: copied, name: 'copied.png' });
    const moved = await scorer.score({ image: handed, name: 'handed.png', handOver: true });
    expect(copied.byteLength).toBe(photo.length);
    expect(handed.byteLength).toBe(0);
    expect(moved.mos).toBe(kept.mos);
    expect(moved.image.sha256).toBe(createHash('sha256').update(photo).digest('hex'));
  });

  it('moves a pooled buffer (a view over part of it) and gets it back for the next upload', async () => {
    const side = 512;
    const frame = imageBuffers.take(side * side * 3);
    for (let i = 0; i < frame.length; i += 1) frame[i] = (i * 13) & 255;
    const copy = new Uint8Array(frame);
    const before = imageBuffers.stats;
    const moved = await scorer.score({ image: frame, pixels: { width: side, height: side, channels: 3 }, name: 'pooled.raw', handOver: true });
    expect(frame.byteLength).toBe(0); // moved, although the view is shorter than its pooled buffer
    const kept = await scorer.score({ image: copy, pixels: { width: side, height: side, channels: 3 }, name: 'copy.raw' });
    expect(moved.mos).toBe(kept.mos);
    // The worker gave it back: the next frame of that size is read into it instead of a new buffer.
    expect(imageBuffers.stats.pooledBytes).toBeGreaterThan(before.pooledBytes);
    imageBuffers.take(side * side * 3);
    expect(imageBuffers.stats.reused).toBe(before.reused + 1);
    expect(imageBuffers.stats.allocated).toBe(before.allocated);
  });

  it('copies a handed-over view that shares its memory with other data', async () => {
    const shared = new Uint8Array(photo.length + 16);
    shared.set(photo, 8);
    const view = shared.subarray(8, 8 + photo.length);
    const result = await scorer.score({ image: view, name: 'view.png', handOver: true });
    expect(view.byteLength).toBe(photo.length);
    expect(shared.byteLength).toBe(photo.length + 16);
    expect(result.image.width).toBeGreaterThan(0);
  });

  it('reports the hash the caller computed instead of hashing again', async () => {
    const known = 'ab'.repeat(32);
    const result = await scorer.score({ image: ownCopy(), name: 'hashed.png', sha256: known });
    expect(result.image.sha256).toBe(known);
  });

  it('scores raw RGB pixels exactly like the PNG they were decoded from, recovering the prompt from the text sent beside them', async () => {
    const decoded = await decodeImage(photo, 'coffee.png');
    // Both carry the same prompt: the lite pack's correspondence round reads it (object checks).
    const fromPng = await scorer.score({ image: ownCopy(), name: 'coffee.png', prompt: 'a cup of coffee on a table' });
    const graph = { '6': { class_type: 'CLIPTextEncode', inputs: { text: 'a cup of coffee on a table', clip: ['4', 1] } }, '3': { class_type: 'KSampler', inputs: { positive: ['6', 0], negative: ['6', 0], seed: 1 } } };
    const fromRaw = await scorer.score({
      image: new Uint8Array(decoded.rgb),
      pixels: { width: decoded.width, height: decoded.height, channels: 3 },
      text: { prompt: JSON.stringify(graph) },
      name: 'frame',
      handOver: true,
    });
    expect(fromRaw.mos).toBe(fromPng.mos);
    expect(fromRaw.aspects).toEqual(fromPng.aspects);
    expect(fromRaw.image).toMatchObject({ width: decoded.width, height: decoded.height, format: 'raw' });
    expect(fromRaw.prompt).toEqual({ text: 'a cup of coffee on a table', source: 'embedded' });
  });

  it('refuses raw pixels that do not match their layout', async () => {
    await expect(scorer.score({ image: new Uint8Array(10), pixels: { width: 2, height: 2, channels: 3 }, name: 'frame' })).rejects.toMatchObject({ code: 'AGQ_ERR_IMAGE_RAW_LAYOUT' });
  });
});
