// What `agiqa train` feeds the predictor, per base-pack kind: a FeatureSource turns dataset images into
// image tokens and round rows of one layout (src/model/predictor-layout.ts), plus the base pack's own
// MOS per aspect for the ablation. The lite source runs in worker threads with a disk cache.
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { isAgiqaError } from '../errors/index.js';
import type { Aspect } from '../model/aspects.js';
import { agiqaHome, type LoadedPack } from '../model/packs.js';
import { DEFAULT_TOKEN_GRID } from '../model/predictor-encoder.js';
import type { RoundEvidence } from '../model/predictor-features.js';
import type { FeatureJob, FeatureWorkerData, ImageFeatures } from '../model/predictor-feature-worker.js';
import type { FeatureLayout, PredictorManifest } from '../model/predictor-manifest.js';
import { WorkerPool } from '../model/worker-pool.js';
import type { DatasetItem } from './datasets.js';

export interface TrainingFeatures {
  /** [tokenGrid², tokenDim] image tokens. */
  tokens: Float32Array;
  rounds: Partial<Record<Aspect, RoundEvidence>>;
  /** The base pack's own MOS per aspect: the "head" candidate of the ablation. */
  head: Partial<Record<Aspect, number>>;
  cached: boolean;
}

export interface Skipped {
  name: string;
  reason: string;
}

export interface FeatureSource {
  tokenGrid: number;
  evidenceWidth: number;
  evidence: PredictorManifest['evidence'];
  layout: FeatureLayout;
  extract(items: DatasetItem[], onProgress?: (done: number, total: number) => void): Promise<{ features: Map<string, TrainingFeatures>; skipped: Skipped[] }>;
}

const featureWorker = new URL(`../model/predictor-feature-worker${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);

/** lite/1: the quality model's spatial tokens, its logits and the classical signals, cached by image hash. */
export function liteFeatureSource(pack: LoadedPack, options: { home?: string | undefined; workers: number }): FeatureSource {
  const input = pack.manifest.input;
  if (input.kind !== 'lite-crops') throw new TypeError(`liteFeatureSource needs a lite-crops pack, got ${input.kind}`);
  const qualityFile = pack.manifest.models.quality!.file;
  const encoderHash = pack.manifest.files.find((f) => f.path === qualityFile)!.sha256.slice(0, 16);
  const cacheDir = join(agiqaHome(options.home), 'cache', 'predictor-features', `${pack.manifest.name}-${encoderHash}-${input.signalsVersion}-g${DEFAULT_TOKEN_GRID}`);
  return {
    tokenGrid: DEFAULT_TOKEN_GRID,
    evidenceWidth: input.signalCount,
    evidence: { quality: 'signals' },
    layout: {
      version: 'lite/1',
      imageTokens: { source: 'lite-spatial' },
      rounds: { quality: Array.from({ length: input.signalCount }, (_, i) => `signal_${i}`) },
    },
    async extract(items, onProgress) {
      const cores = availableParallelism();
      const workerData: FeatureWorkerData = { pack, threads: Math.max(1, Math.floor(cores / options.workers)), tokenGrid: DEFAULT_TOKEN_GRID, cacheDir };
      const pool = await WorkerPool.start<FeatureJob, ImageFeatures>({ script: featureWorker, workerData, size: options.workers, maxQueue: Number.MAX_SAFE_INTEGER });
      const features = new Map<string, TrainingFeatures>();
      const skipped: Skipped[] = [];
      let done = 0;
      onProgress?.(0, items.length);
      try {
        await Promise.all(
          items.map(async (item) => {
            try {
              const f = await pool.run({ path: item.path! });
              features.set(item.name, { tokens: f.tokens, rounds: { quality: { logits: f.logits, evidence: f.signals } }, head: { quality: f.headMos }, cached: f.cached });
            } catch (error) {
              if (!isAgiqaError(error)) throw error;
              skipped.push({ name: item.name, reason: `${error.message} [${error.code}]` });
            }
            onProgress?.(++done, items.length);
          }),
        );
      } finally {
        await pool.close();
      }
      return { features, skipped };
    },
  };
}
