// `agiqa train` end to end: features from the base pack's encoder (worker threads, cached on disk),
// a bundle for training/predictor/train.py, the trainer run, held-out evaluation of the exported ONNX
// through the TS runtime, the ablation (xLSTM vs MLP vs the pack's own head), and a new pack folder.
import { spawn, spawnSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { agiqaError } from '../errors/index.js';
import { ASPECTS, type Aspect } from '../model/aspects.js';
import { filesDigest, type PackManifest } from '../model/pack-manifest.js';
import { sha256OfFile, type LoadedPack } from '../model/packs.js';
import { PredictorModel } from '../model/predictor.js';
import { roundRows } from '../model/predictor-features.js';
import type { PredictorManifest } from '../model/predictor-manifest.js';
import type { Dataset, DatasetItem, SplitName } from './datasets.js';
import { aspectMetrics, type AspectMetrics } from './metrics.js';
import { clipFeatureSource } from './training-features-clip.js';
import { liteFeatureSource, type FeatureSource, type TrainingFeatures } from './training-features.js';

export const TRAINER_SCRIPT = fileURLToPath(new URL('../../training/predictor/train.py', import.meta.url));
export const DEFAULT_PYTHON = '/usr/bin/python3';
const PACK_NAME = /^[a-z0-9][a-z0-9._-]*$/;
export type Candidate = 'xlstm' | 'mlp' | 'head';

export interface TrainOptions {
  dataset: Dataset;
  base: LoadedPack;
  /** The new pack's folder; its basename becomes the pack name. */
  out: string;
  seed: number;
  epochs?: number | undefined;
  kinds?: readonly ('xlstm' | 'mlp')[] | undefined;
  python?: string | undefined;
  home?: string | undefined;
  workers?: number | undefined;
  /** Ship this candidate whatever the ablation says (default: the best on the selection split). */
  ship?: Candidate | undefined;
  /** Where features come from; default: the base pack's own encoder (lite/1 or clip/1). */
  source?: FeatureSource | undefined;
  /** Recorded in pack.json `training` (e.g. distill's teacher). */
  provenance?: Record<string, unknown> | undefined;
  /** Extra trainer flags (tests shrink the network). */
  trainerArgs?: readonly string[] | undefined;
  onExtract?: ((done: number, total: number) => void) | undefined;
  onTrainerLine?: ((line: string) => void) | undefined;
}

type CompactMetrics = Omit<AspectMetrics, 'logistic'>;
export type MetricsByAspect = Partial<Record<Aspect, CompactMetrics>>;

export interface TrainResult {
  packDir: string;
  manifest: PackManifest;
  winner: Candidate;
  ablation: Record<'val' | 'test', Partial<Record<Candidate, MetricsByAspect>>>;
  skipped: { name: string; reason: string }[];
  cachedFeatures: number;
}

/** Throws AGQ_ERR_TRAINING_UNAVAILABLE when `python` cannot import torch, onnx and numpy. */
export function checkTrainerPython(python: string): void {
  const probe = spawnSync(python, ['-c', 'import torch, onnx, numpy'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    const detail = probe.error?.message ?? probe.stderr.trim().split('\n').pop() ?? `exit ${probe.status}`;
    throw agiqaError('AGQ_ERR_TRAINING_UNAVAILABLE', { python, detail });
  }
}

function compact(m: AspectMetrics): CompactMetrics {
  const r = (v: number | null) => (v === null || Number.isNaN(v) ? v : Math.round(v * 10000) / 10000);
  return { n: m.n, srcc: r(m.srcc)!, plcc: r(m.plcc)!, plccLogistic: r(m.plccLogistic), krcc: r(m.krcc)!, rmse: r(m.rmse)!, rmseLogistic: r(m.rmseLogistic) };
}

interface Row {
  item: DatasetItem;
  features: TrainingFeatures;
  rounds: Float32Array;
  mask: Float32Array;
  targets: Float32Array;
}

async function writeBundle(dir: string, rows: Row[], meta: { tokens: number; tokenDim: number; evidenceWidth: number }): Promise<void> {
  const join32 = (parts: Float32Array[]) => {
    const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    let offset = 0;
    for (const p of parts) {
      out.set(p, offset);
      offset += p.length;
    }
    return Buffer.from(out.buffer);
  };
  await writeFile(join(dir, 'tokens.f32'), join32(rows.map((r) => r.features.tokens)));
  await writeFile(join(dir, 'rounds.f32'), join32(rows.map((r) => r.rounds)));
  await writeFile(join(dir, 'mask.f32'), join32(rows.map((r) => r.mask)));
  await writeFile(join(dir, 'targets.f32'), join32(rows.map((r) => r.targets)));
  await writeFile(join(dir, 'meta.json'), JSON.stringify({ count: rows.length, ...meta, splits: rows.map((r) => r.item.split), names: rows.map((r) => r.item.name) }));
}

function runTrainer(python: string, args: string[], onLine: ((line: string) => void) | undefined): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(python, [TRAINER_SCRIPT, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const tail: string[] = [];
    let buffered = '';
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        tail.push(line);
        if (tail.length > 20) tail.shift();
        onLine?.(line);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (cause) => reject(agiqaError('AGQ_ERR_TRAINING_FAILED', { step: 'starting the trainer', detail: cause.message }, { cause })));
    child.on('close', (code) => {
      if (code === 0) resolvePromise();
      else reject(agiqaError('AGQ_ERR_TRAINING_FAILED', { step: 'training', detail: `${TRAINER_SCRIPT} exited with ${code}: ${tail.slice(-6).join(' | ')}` }));
    });
  });
}

function measure(rows: Row[], aspects: readonly Aspect[], predicted: (row: Row, aspect: Aspect) => number | undefined): MetricsByAspect {
  const out: MetricsByAspect = {};
  for (const aspect of aspects) {
    const pairs = rows.flatMap((row) => {
      const p = predicted(row, aspect);
      const t = row.item.mos[aspect];
      return p === undefined || t === undefined ? [] : [[p, t] as const];
    });
    if (pairs.length >= 2) out[aspect] = compact(aspectMetrics(pairs.map((p) => p[0]), pairs.map((p) => p[1])));
  }
  return out;
}

function meanSrcc(metrics: MetricsByAspect | undefined): number {
  const values = Object.values(metrics ?? {}).map((m) => m.srcc).filter((v) => Number.isFinite(v));
  return values.length === 0 ? Number.NEGATIVE_INFINITY : values.reduce((a, b) => a + b, 0) / values.length;
}

/**
 * Trains and writes the new pack. Throws AGQ_ERR_USAGE for a bad --out name, AGQ_ERR_TRAINING_UNAVAILABLE
 * without torch, AGQ_ERR_TRAINING_FAILED when a split is too small or the trainer fails, and the pack's
 * load errors. Images that cannot be read are skipped and listed in the result.
 */
export async function trainPredictor(options: TrainOptions): Promise<TrainResult> {
  const { dataset, base } = options;
  const packDir = resolve(options.out);
  const name = basename(packDir);
  if (!PACK_NAME.test(name)) {
    throw agiqaError('AGQ_ERR_USAGE', { problem: `The pack folder's name "${name}" must be lowercase letters, digits, ".", "_" or "-" (it becomes the pack name)` });
  }
  const aspects = dataset.aspects.filter((a) => base.manifest.aspects.includes(a));
  if (aspects.length === 0) {
    throw agiqaError('AGQ_ERR_TRAINING_FAILED', {
      step: 'matching aspects',
      detail: `the dataset rates ${dataset.aspects.join(', ')} but pack "${base.manifest.name}" judges ${base.manifest.aspects.join(', ')}`,
    });
  }
  const python = options.python ?? process.env.AGIQA_PYTHON ?? DEFAULT_PYTHON;
  checkTrainerPython(python);
  const kinds = options.kinds ?? ['xlstm', 'mlp'];

  const present = dataset.items.filter((item) => item.path !== null && aspects.some((a) => item.mos[a] !== undefined));
  const skipped = dataset.items.filter((item) => item.path === null).map((item) => ({ name: item.name, reason: 'image not found' }));
  const workers = options.workers ?? Math.min(2, availableParallelism());
  if (options.source === undefined && base.manifest.input.kind === 'judge') {
    throw agiqaError('AGQ_ERR_USAGE', { problem: `pack "${base.manifest.name}" is a judge pack: give the fast pack whose image tokens go with its rounds (--image-pack lite, or a CLIP-family pack)` });
  }
  const source =
    options.source ??
    (base.manifest.input.kind === 'clip' ? clipFeatureSource(base, { threads: Math.max(1, availableParallelism()) }) : liteFeatureSource(base, { home: options.home, workers }));
  const extracted = await source.extract(present, options.onExtract);
  skipped.push(...extracted.skipped);

  const evidenceWidth = source.evidenceWidth;
  const rows: Row[] = present.flatMap((item) => {
    const features = extracted.features.get(item.name);
    if (features === undefined) return [];
    const { rounds, mask } = roundRows(features.rounds, evidenceWidth);
    const targets = new Float32Array(ASPECTS.length + 1).fill(Number.NaN);
    const rated = aspects.filter((a) => item.mos[a] !== undefined);
    for (const a of rated) targets[ASPECTS.indexOf(a)] = item.mos[a]!;
    targets[ASPECTS.length] = rated.reduce((s, a) => s + item.mos[a]!, 0) / rated.length;
    return [{ item, features, rounds, mask, targets }];
  });
  const bySplit = (split: SplitName) => rows.filter((r) => r.item.split === split);
  const counts = { train: bySplit('train').length, val: bySplit('val').length, test: bySplit('test').length };
  if (counts.train < 4 || counts.test < 2) {
    const why = skipped.length > 0 ? `; ${skipped.length} skipped, e.g. ${skipped[0]!.name}: ${skipped[0]!.reason}` : '';
    throw agiqaError('AGQ_ERR_TRAINING_FAILED', { step: 'splitting', detail: `too few readable images: ${counts.train} train, ${counts.val} val, ${counts.test} test${why}` });
  }
  const tokens = source.tokenGrid * source.tokenGrid;
  const tokenDim = rows[0]!.features.tokens.length / tokens;

  const work = await mkdtemp(join(tmpdir(), 'agiqa-train-'));
  try {
    await writeBundle(work, rows, { tokens, tokenDim, evidenceWidth });
    const trainerOut = join(work, 'out');
    await runTrainer(
      python,
      ['--bundle', work, '--out', trainerOut, '--kinds', kinds.join(','), '--seed', String(options.seed), ...(options.epochs ? ['--epochs', String(options.epochs)] : []), ...(options.trainerArgs ?? [])],
      options.onTrainerLine,
    );
    const log = JSON.parse(await readFile(join(trainerOut, 'train-log.json'), 'utf8')) as { kinds: Record<string, Record<string, unknown>>; hyper: unknown; torch: string };

    // Held-out evaluation runs the exported graphs through the TS runtime: what ships is what is measured.
    const manifestFor = (kind: 'xlstm' | 'mlp'): PredictorManifest => ({
      file: 'predictor.onnx',
      kind,
      tokenGrid: source.tokenGrid,
      tokenDim,
      evidence: source.evidence,
      evidenceWidth,
      outputs: [...ASPECTS, 'overall'],
      features: source.layout,
      aspects,
      config: (log.kinds[kind]?.config ?? {}) as Record<string, unknown>,
    });
    const ablation: TrainResult['ablation'] = { val: {}, test: {} };
    for (const kind of kinds) {
      const model = await PredictorModel.load(join(trainerOut, `predictor-${kind}.onnx`), manifestFor(kind), { threads: 1, pack: name });
      try {
        for (const split of ['val', 'test'] as const) {
          const splitRows = bySplit(split);
          const predicted = new Map<Row, Partial<Record<Aspect, number>>>();
          for (let start = 0; start < splitRows.length; start += 64) {
            const batch = splitRows.slice(start, start + 64);
            const out = await model.predict(batch.map((r) => ({ imageTokens: r.features.tokens, rounds: r.rounds, roundMask: r.mask })));
            batch.forEach((r, i) => predicted.set(r, out[i]!.aspects));
          }
          ablation[split][kind] = measure(splitRows, aspects, (row, aspect) => predicted.get(row)?.[aspect]);
        }
      } finally {
        await model.close();
      }
    }
    for (const split of ['val', 'test'] as const) {
      ablation[split].head = measure(bySplit(split), aspects, (row, aspect) => row.features.head[aspect]);
    }
    const selectOn = counts.val >= 5 ? 'val' : 'test';
    const candidates: Candidate[] = [...kinds, 'head'];
    if (options.ship !== undefined && !candidates.includes(options.ship)) {
      throw agiqaError('AGQ_ERR_USAGE', { problem: `cannot ship ${options.ship}: the candidates trained are ${candidates.join(', ')}` });
    }
    const winner = options.ship ?? candidates.reduce((best, c) => (meanSrcc(ablation[selectOn][c]) > meanSrcc(ablation[selectOn][best]) ? c : best));

    await mkdir(packDir, { recursive: true });
    const files = [];
    for (const file of base.manifest.files) {
      const target = join(packDir, file.path);
      await mkdir(dirname(target), { recursive: true });
      if (resolve(base.files.get(file.path)!) !== resolve(target)) await copyFile(base.files.get(file.path)!, target);
      files.push(file);
    }
    let predictor: PredictorManifest | null = null;
    if (winner !== 'head') {
      const target = join(packDir, 'predictor.onnx');
      await copyFile(join(trainerOut, `predictor-${winner}.onnx`), target);
      files.push({ path: 'predictor.onnx', sha256: await sha256OfFile(target), bytes: (await stat(target)).size, license: base.manifest.license, source: `agiqa train (training/predictor, ${winner})` });
      predictor = manifestFor(winner);
    }
    const manifest: PackManifest = {
      ...base.manifest,
      name,
      // The score cache is keyed by name + version, so the version changes with the files (a retrained
      // predictor must not answer from the old one's cache); a judge pack's also ends with the digest
      // of its input (server, rounds, decoding) after a "+".
      version: base.manifest.input.kind === 'judge'
        ? `1.0.0-${filesDigest(files)}+${base.manifest.version.split('+')[1] ?? ''}`
        : `1.0.0+${filesDigest(files)}`,
      description: `${base.manifest.name} ${base.manifest.version} + M3 predictor (${winner}) trained on ${dataset.format} by agiqa train`,
      files,
      predictor,
      training: {
        base: { name: base.manifest.name, version: base.manifest.version },
        data: { format: dataset.format, labelFiles: dataset.labelFiles.map((f) => basename(f)), aspects, images: rows.length, skipped: skipped.length },
        split: { scheme: dataset.split.scheme, seed: dataset.split.seed, counts },
        seed: options.seed,
        trainer: { script: 'training/predictor/train.py', torch: log.torch, hyper: log.hyper, runs: Object.fromEntries(Object.entries(log.kinds).map(([k, v]) => [k, { bestEpoch: v.bestEpoch, epochsRun: v.epochsRun, bestValMse: v.bestValMse, parameters: v.parameters, selection: v.selection }])) },
        createdAt: new Date().toISOString(),
        ...options.provenance,
      },
      metrics: {
        heldOut: { split: 'test', candidate: winner, aspects: ablation.test[winner] },
        ablation: { selectedOn: options.ship === undefined ? selectOn : `none (--ship ${options.ship})`, winner, ...ablation },
      },
    };
    await writeFile(join(packDir, 'pack.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    return { packDir, manifest, winner, ablation, skipped, cachedFeatures: [...extracted.features.values()].filter((f) => f.cached).length };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
