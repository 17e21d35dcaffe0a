// Worker-thread entry for `agiqa train`'s feature extraction: decode, classical signals and the
// pack's encoder for one image, cached on disk by the image's sha256 so a second run reads files only.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { workerData } from 'node:worker_threads';
import { decodeImage, type ImageLimits } from '../image/index.js';
import { computeSignals } from '../signals/index.js';
import type { LoadedPack } from './packs.js';
import { LiteEncoder } from './predictor-encoder.js';
import { serveWorkerJobs } from './worker-entry.js';

export interface FeatureWorkerData {
  pack: LoadedPack;
  threads: number;
  tokenGrid: number;
  /** Folder of cached feature files for this pack, encoder file and grid. */
  cacheDir: string;
  limits?: ImageLimits | undefined;
}

export interface FeatureJob {
  path: string;
}

export interface ImageFeatures {
  sha256: string;
  tokens: Float32Array;
  logits: number[];
  headMos: number;
  signals: Float32Array;
  cached: boolean;
}

const LEVEL_COUNT = 5;

/** Packs one image's features into one float32 file: tokens, 5 logits, the head's MOS, the signals. */
function serialise(f: Omit<ImageFeatures, 'sha256' | 'cached'>): Buffer {
  const all = new Float32Array(f.tokens.length + LEVEL_COUNT + 1 + f.signals.length);
  all.set(f.tokens, 0);
  all.set(f.logits, f.tokens.length);
  all[f.tokens.length + LEVEL_COUNT] = f.headMos;
  all.set(f.signals, f.tokens.length + LEVEL_COUNT + 1);
  return Buffer.from(all.buffer);
}

/** Reads a cache file back; null when its size does not fit (grid² tokens of some width + the rest). */
function deserialise(bytes: Buffer, tokenCount: number, signalCount: number): Omit<ImageFeatures, 'sha256' | 'cached'> | null {
  const tokenLength = bytes.length / 4 - LEVEL_COUNT - 1 - signalCount;
  if (bytes.length % 4 !== 0 || tokenLength <= 0 || tokenLength % tokenCount !== 0) return null;
  const all = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length));
  return {
    tokens: all.slice(0, tokenLength),
    logits: Array.from(all.subarray(tokenLength, tokenLength + LEVEL_COUNT)),
    headMos: all[tokenLength + LEVEL_COUNT]!,
    signals: all.slice(tokenLength + LEVEL_COUNT + 1),
  };
}

const data = workerData as FeatureWorkerData;

await serveWorkerJobs<FeatureJob, ImageFeatures>(async () => {
  const encoder = await LiteEncoder.load(data.pack, data.threads, data.tokenGrid);
  await mkdir(data.cacheDir, { recursive: true });
  const tokenCount = data.tokenGrid * data.tokenGrid;
  return async ({ path }) => {
    const bytes = await readFile(path);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const cacheFile = join(data.cacheDir, `${sha256}.f32`);
    const hit = await readFile(cacheFile).then((b) => deserialise(b, tokenCount, encoder.signalCount), () => null);
    if (hit !== null) return { sha256, ...hit, cached: true };
    const image = await decodeImage(bytes, path, data.limits);
    const signals = computeSignals(image).features;
    const encoded = await encoder.encode(image, signals);
    const features = { tokens: encoded.tokens, logits: encoded.logits, headMos: encoded.headMos, signals };
    // write-then-rename, so a crash never leaves a truncated cache file that a later run would trust
    const partial = `${cacheFile}.${process.pid}.tmp`;
    await writeFile(partial, serialise(features));
    await rename(partial, cacheFile);
    return { sha256, ...features, cached: false };
  };
});
