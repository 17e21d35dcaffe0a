// The dashboard's thumbnails: made once from each new image's bytes (never the full image served),
// kept on disk under $AGIQA_HOME/thumbnails by image hash, oldest removed past a byte bound. The same
// pass records the image's sampling parameters (seed, sampler, steps, cfg) for the prompt view.
import { mkdirSync } from 'node:fs';
import { readdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { makePreview } from '../image/index.js';
import type { PipelineImage } from '../pipeline/index.js';
import { imageBuffers } from '../scoring/index.js';
import { generationParams } from '../prompts/index.js';
import type { Store } from '../store/index.js';

export interface ThumbnailOptions {
  dir: string;
  store: Store;
  logger: Logger;
  /** Bytes of thumbnails kept on disk; the oldest go first past it. */
  maxBytes?: number;
  /** Longer side in pixels. */
  size?: number;
  maxPixels: number;
  /** Images waiting for a thumbnail at most; more are skipped (the feed shows a placeholder). */
  maxPending?: number;
  /** True while images are being scored: a thumbnail then waits, since it takes the cores scoring needs. */
  busy?: () => boolean;
  /** How long a thumbnail waits at most for scoring to pause (from when its image was offered); default 30 s. */
  maxDeferMs?: number;
}

/** How often a deferred thumbnail looks again whether scoring has paused. */
const QUIET_POLL_MS = 10;
/**
 * How long scoring must have paused before a thumbnail starts: a client sending its next request right
 * after an answer leaves gaps of a millisecond, and a thumbnail started in one runs beside that request.
 */
const QUIET_FOR_MS = 100;

const SHA256 = /^[0-9a-f]{64}$/;

export class ThumbnailCache {
  /** sha256 → size on disk, oldest first (Map keeps insertion order). */
  private readonly sizes = new Map<string, number>();
  private totalBytes = 0;
  private readonly waiting: { sha256: string; bytes: Uint8Array; pixels: PipelineImage['pixels']; text: Record<string, string> | undefined; offeredAt: number }[] = [];
  /** Images waiting or being made, with what resolves when each is done (made or given up). */
  private readonly queued = new Map<string, { promise: Promise<void>; resolve: () => void }>();
  private running: Promise<void> | null = null;
  /** Set by settled(): a thumbnail no longer waits for scoring to pause (a stuck worker keeps it busy). */
  private hurry = false;
  private readonly ready: Promise<void>;
  readonly maxBytes: number;

  constructor(private readonly options: ThumbnailOptions) {
    this.maxBytes = options.maxBytes ?? 256 * 1024 * 1024;
    mkdirSync(options.dir, { recursive: true });
    this.ready = this.scan().catch((error: unknown) => options.logger.warn({ err: error }, 'thumbnail folder could not be read'));
  }

  /** What is already on disk, oldest first, so the bound holds across restarts. */
  private async scan(): Promise<void> {
    const found: { sha256: string; size: number; mtime: number }[] = [];
    for (const shard of await readdir(this.options.dir)) {
      if (!/^[0-9a-f]{2}$/.test(shard)) continue;
      for (const name of await readdir(join(this.options.dir, shard))) {
        const sha256 = name.replace(/\.webp$/, '');
        if (!SHA256.test(sha256)) continue;
        const info = await stat(join(this.options.dir, shard, name));
        found.push({ sha256, size: info.size, mtime: info.mtimeMs });
      }
    }
    found.sort((a, b) => a.mtime - b.mtime);
    for (const entry of found) this.remember(entry.sha256, entry.size);
    await this.evict();
  }

  private fileOf(sha256: string): string {
    return join(this.options.dir, sha256.slice(0, 2), `${sha256}.webp`);
  }

  private remember(sha256: string, size: number): void {
    this.totalBytes += size - (this.sizes.get(sha256) ?? 0);
    this.sizes.delete(sha256);
    this.sizes.set(sha256, size);
  }

  private async evict(): Promise<void> {
    for (const [sha256, size] of this.sizes) {
      if (this.totalBytes <= this.maxBytes) break;
      this.sizes.delete(sha256);
      this.totalBytes -= size;
      await unlink(this.fileOf(sha256)).catch(() => undefined);
    }
  }

  /** The thumbnail's file, or null when there is none (never made, skipped, or evicted). */
  fileFor(sha256: string): string | null {
    return SHA256.test(sha256) && this.sizes.has(sha256) ? this.fileOf(sha256) : null;
  }

  /**
   * Like fileFor, but waits (at most `waitMs`) for a thumbnail still being made: a page shows an image
   * the moment its score is published, which can be before its thumbnail is written.
   */
  async fileWhenMade(sha256: string, waitMs = 3_000): Promise<string | null> {
    const pending = this.queued.get(sha256);
    if (pending !== undefined) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([pending.promise, new Promise<void>((resolve) => (timer = setTimeout(resolve, waitMs)))]);
      clearTimeout(timer);
    }
    return this.fileFor(sha256);
  }

  get bytesOnDisk(): number {
    return this.totalBytes;
  }

  /** Queues a thumbnail of a new image. Copies the bytes at once: the caller hands its buffer to a worker next. */
  offer(sha256: string, image: Pick<PipelineImage, 'image' | 'pixels' | 'text'>): void {
    if (this.sizes.has(sha256) || this.queued.has(sha256)) return;
    if (this.waiting.length >= (this.options.maxPending ?? 16)) return;
    let resolve!: () => void;
    const promise = new Promise<void>((done) => (resolve = done));
    this.queued.set(sha256, { promise, resolve });
    // The copy comes from the image buffer pool and goes back once the thumbnail is made.
    const bytes = imageBuffers.take(image.image.length);
    bytes.set(image.image);
    this.waiting.push({ sha256, bytes, pixels: image.pixels, text: image.text, offeredAt: Date.now() });
    this.running ??= this.drain().finally(() => {
      this.running = null;
    });
  }

  /** Resolves when every offered image has been handled (tests, shutdown); those waiting for scoring to pause wait no more. */
  async settled(): Promise<void> {
    this.hurry = true;
    try {
      await this.ready;
      while (this.running !== null) await this.running;
    } finally {
      this.hurry = false;
    }
  }

  /**
   * Waits until no image has been admitted or scored for QUIET_FOR_MS, at most until `maxDeferMs` after `offeredAt`: a thumbnail of a
   * 512² raw frame costs about half the CPU of scoring it (of a 1024² PNG, a second decode), and a UI
   * waiting for verdicts should not pay for the dashboard's pictures. Between a UI's batches (seconds of
   * sampling) the cores are free; under steady load at most `maxPending` wait and the rest are skipped.
   */
  private async quiet(offeredAt: number): Promise<void> {
    const busy = this.options.busy;
    if (busy === undefined) return;
    const until = offeredAt + (this.options.maxDeferMs ?? 30_000);
    let quietSince: number | null = null;
    while (!this.hurry && Date.now() < until) {
      if (busy()) quietSince = null;
      else quietSince ??= Date.now();
      if (quietSince !== null && Date.now() - quietSince >= QUIET_FOR_MS) return;
      await new Promise((resolve) => setTimeout(resolve, Math.min(QUIET_POLL_MS, Math.max(1, until - Date.now()))));
    }
  }

  // One at a time, and after scoring: thumbnails share the cores with scoring and must never compete with it much.
  private async drain(): Promise<void> {
    await this.ready;
    for (let next = this.waiting.shift(); next !== undefined; next = this.waiting.shift()) {
      const { sha256, bytes, pixels, text, offeredAt } = next;
      try {
        await this.quiet(offeredAt);
        const preview = await makePreview(bytes, { size: this.options.size ?? 256, maxPixels: this.options.maxPixels, name: sha256, raw: pixels });
        const file = this.fileOf(sha256);
        mkdirSync(join(this.options.dir, sha256.slice(0, 2)), { recursive: true });
        await writeFile(`${file}.tmp`, preview.thumbnail);
        await rename(`${file}.tmp`, file);
        this.remember(sha256, preview.thumbnail.length);
        await this.evict();
        const params = generationParams({ ...preview.text, ...text });
        if (Object.keys(params).length > 0) await this.options.store.dashboard.saveImageParams(sha256, params);
      } catch (error) {
        // A bad image is the scorer's to report; the feed just shows no thumbnail for it.
        this.options.logger.debug({ err: error, sha256 }, 'no thumbnail');
      } finally {
        if (imageBuffers.owns(bytes.buffer)) imageBuffers.give([bytes.buffer as ArrayBuffer]);
        this.queued.get(sha256)?.resolve();
        this.queued.delete(sha256);
      }
    }
  }
}
