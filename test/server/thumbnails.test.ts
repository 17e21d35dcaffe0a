// The thumbnail cache: a small WebP per new image, parameters recorded, the byte bound kept (oldest
// out first, across restarts), bad images skipped without an error, a waiting reader served.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { ThumbnailCache } from '../../src/server/thumbnails.js';
import { Store } from '../../src/store/index.js';
import { scoredPng } from '../fixtures/server/dashboard-images.js';

const stores: Store[] = [];
afterEach(() => {
  for (const store of stores.splice(0)) store.close();
});

async function cache(options: { maxBytes?: number; dir?: string; busy?: () => boolean; maxDeferMs?: number } = {}) {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'agiqa-thumbs-'));
  const store = await Store.open(join(dir, 'agiqa.db'));
  stores.push(store);
  return { dir, store, thumbnails: new ThumbnailCache({ dir: join(dir, 'thumbnails'), store, logger: pino({ level: 'silent' }), maxPixels: 1_000_000, maxBytes: options.maxBytes, size: 64, busy: options.busy, maxDeferMs: options.maxDeferMs }) };
}

const sha = (n: number) => n.toString(16).padStart(64, '0');

async function photo(seed: number, size = 300): Promise<Buffer> {
  const noise = Buffer.alloc(size * size * 3);
  for (let i = 0; i < noise.length; i += 1) noise[i] = (i * 7919 + seed * 104_729) % 251;
  return sharp(noise, { raw: { width: size, height: size, channels: 3 } }).png().toBuffer();
}

describe('ThumbnailCache', () => {
  it('makes a WebP no larger than its size from the bytes, which the caller may then reuse', async () => {
    const { thumbnails } = await cache();
    const bytes = await scoredPng({ mos: 3, prompt: 'x', seed: 42, steps: 12 });
    thumbnails.offer(sha(1), { image: bytes });
    bytes.fill(0); // the caller's buffer moves on (to a worker); the cache copied it
    const file = await thumbnails.fileWhenMade(sha(1));
    expect(file).not.toBeNull();
    const info = await sharp(file!).metadata();
    expect(info.format).toBe('webp');
    expect(Math.max(info.width!, info.height!)).toBeLessThanOrEqual(64);
  });

  it('records the parameters it read for the prompt view', async () => {
    const { thumbnails, store } = await cache();
    thumbnails.offer(sha(2), { image: await scoredPng({ mos: 3, prompt: 'x', seed: 42, steps: 12, cfg: 4 }) });
    await thumbnails.settled();
    const row = await store.dashboard.feed({});
    expect(row.items).toEqual([]); // no generation yet; the parameters wait for it by image hash
    const db = (await import('better-sqlite3')).default(join(store.file), { readonly: true });
    expect(JSON.parse((db.prepare('SELECT params_json AS p FROM image_params WHERE sha256 = ?').get(sha(2)) as { p: string }).p)).toEqual({ seed: 42, sampler: 'Euler a', steps: 12, cfg: 4 });
    db.close();
  });

  it('keeps the bytes on disk under the bound, dropping the oldest, also after a restart', async () => {
    const first = await cache({ maxBytes: 500 }); // each of these thumbnails is ~150 bytes
    for (let n = 1; n <= 6; n += 1) {
      first.thumbnails.offer(sha(n), { image: await photo(n) });
      await first.thumbnails.settled();
    }
    expect(first.thumbnails.bytesOnDisk).toBeLessThanOrEqual(500);
    expect(first.thumbnails.bytesOnDisk).toBeGreaterThan(250);
    expect(first.thumbnails.fileFor(sha(1))).toBeNull();
    expect(existsSync(join(first.dir, 'thumbnails', '00', `${sha(1)}.webp`))).toBe(false);
    expect(first.thumbnails.fileFor(sha(6))).not.toBeNull();
    const again = await cache({ dir: first.dir, maxBytes: 200 });
    await again.thumbnails.settled();
    expect(again.thumbnails.bytesOnDisk).toBeLessThanOrEqual(200);
    expect(again.thumbnails.fileFor(sha(6))).not.toBeNull();
  });

  it('skips an image it cannot read, and one over the pixel cap, without failing', async () => {
    const { thumbnails } = await cache();
    thumbnails.offer(sha(7), { image: Buffer.from('not an image at all') });
    thumbnails.offer(sha(8), { image: await photo(8, 1100) });
    expect(await thumbnails.fileWhenMade(sha(7))).toBeNull();
    expect(await thumbnails.fileWhenMade(sha(8))).toBeNull();
    expect(thumbnails.fileFor('../../etc/passwd')).toBeNull();
  });

  it('waits while images are being scored, and makes the thumbnail once scoring pauses', async () => {
    let busy = true;
    const { thumbnails } = await cache({ busy: () => busy, maxDeferMs: 60_000 });
    thumbnails.offer(sha(9), { image: await photo(9) });
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(thumbnails.fileFor(sha(9))).toBeNull();
    // A pause of a few milliseconds between two requests is not a pause.
    busy = false;
    await new Promise((resolve) => setTimeout(resolve, 30));
    busy = true;
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(thumbnails.fileFor(sha(9))).toBeNull();
    busy = false;
    expect(await thumbnails.fileWhenMade(sha(9), 5_000)).not.toBeNull();
  });

  it('waits at most maxDeferMs from the offer: under steady load thumbnails are still made', async () => {
    const { thumbnails } = await cache({ busy: () => true, maxDeferMs: 100 });
    const offered = Date.now();
    thumbnails.offer(sha(10), { image: await photo(10) });
    expect(await thumbnails.fileWhenMade(sha(10), 5_000)).not.toBeNull();
    expect(Date.now() - offered).toBeGreaterThanOrEqual(95);
  });

  it('settled() (shutdown) makes what waits for scoring to pause at once', async () => {
    const { thumbnails } = await cache({ busy: () => true, maxDeferMs: 60_000 });
    thumbnails.offer(sha(11), { image: await photo(11) });
    const started = Date.now();
    await thumbnails.settled();
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(thumbnails.fileFor(sha(11))).not.toBeNull();
  });
});
