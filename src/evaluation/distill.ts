// `agiqa distill`: a judge (the teacher) labels images, and a fast pack's M3 predictor learns those
// labels with the training driver of `agiqa train`; the new pack names the teacher in its provenance.
// When human ratings come with the images, the teacher's own agreement with them is measured too.
import { stat } from 'node:fs/promises';
import { basename, join, relative, resolve } from 'node:path';
import { agiqaError } from '../errors/index.js';
import { listImageFiles } from '../image/index.js';
import type { Aspect } from '../model/aspects.js';
import type { LoadedPack } from '../model/packs.js';
import { randomSplit, readDataset, type Dataset, type DatasetFormat, type DatasetItem } from './datasets.js';
import { aspectMetrics } from './metrics.js';
import { LabelCache, labelImages, type LabelItem, type LabelProgress, type Teacher } from './teacher-labels.js';
import { trainPredictor, type MetricsByAspect, type TrainResult } from './train-predictor.js';

export const LABEL_FILE = 'teacher-labels.jsonl';

export interface DistillOptions {
  teacher: Teacher;
  /** The judge pack the teacher comes from. */
  teacherPack: { name: string; version: string };
  /** A folder of images, or a CSV (image[,prompt][,mos…]) or a dataset label file. */
  images: string;
  format?: DatasetFormat | undefined;
  imageDir?: string | undefined;
  /** The fast pack whose predictor learns the labels. */
  base: LoadedPack;
  out: string;
  seed: number;
  concurrency: number;
  epochs?: number | undefined;
  kinds?: readonly ('xlstm' | 'mlp')[] | undefined;
  trainerArgs?: readonly string[] | undefined;
  home?: string | undefined;
  workers?: number | undefined;
  /** Stop after labelling (for a later run to train). */
  labelOnly?: boolean | undefined;
  signal?: AbortSignal | undefined;
  onLabel?: ((progress: LabelProgress) => void) | undefined;
  onExtract?: ((done: number, total: number) => void) | undefined;
  onTrainerLine?: ((line: string) => void) | undefined;
}

export interface DistillResult {
  labelFile: string;
  labelled: number;
  asked: number;
  cached: number;
  failed: { name: string; reason: string }[];
  /** The teacher's MOS against human ratings, when given: on every rated image and on the test split. */
  teacherVsHuman: { all: MetricsByAspect; test: MetricsByAspect } | null;
  train: TrainResult | null;
}

/** The images to label with their prompt and (when the file has them) human MOS. */
async function readInputs(options: DistillOptions): Promise<{ items: DatasetItem[]; rated: boolean; source: string }> {
  const location = resolve(options.images);
  const info = await stat(location).catch((cause: Error) => {
    throw agiqaError('AGQ_ERR_DATASET_NOT_FOUND', { dataset: options.images, detail: `no such file or folder (${cause.message})` }, { cause });
  });
  const isLabelFolder = info.isDirectory() && options.format !== undefined;
  if (info.isFile() || isLabelFolder) {
    const dataset = await readDataset(location, { format: options.format, images: options.imageDir, seed: options.seed, requireMos: false });
    const missing = dataset.items.filter((item) => item.path === null);
    if (missing.length === dataset.items.length) {
      throw agiqaError('AGQ_ERR_DATASET_NOT_FOUND', { dataset: options.images, detail: `none of its ${missing.length} listed images is under ${dataset.imageDir}` });
    }
    return { items: dataset.items.filter((item) => item.path !== null), rated: dataset.aspects.length > 0, source: basename(location) };
  }
  const { files } = await listImageFiles([location]);
  if (files.length === 0) throw agiqaError('AGQ_ERR_DATASET_NOT_FOUND', { dataset: options.images, detail: 'no image files in the folder' });
  // the prompt each image embeds (ComfyUI / A1111 metadata) is read by the judge itself
  const items = files.map((path) => ({ name: relative(location, path), path, prompt: null, mos: {}, split: 'train' as const }));
  return { items, rated: false, source: basename(location) };
}

function measureTeacher(items: readonly DatasetItem[], teacherMos: Map<string, Partial<Record<Aspect, number>>>, aspects: readonly Aspect[]): MetricsByAspect {
  const out: MetricsByAspect = {};
  for (const aspect of aspects) {
    const pairs = items.flatMap((item) => {
      const t = teacherMos.get(item.name)?.[aspect];
      const h = item.mos[aspect];
      return t === undefined || h === undefined ? [] : [[t, h] as const];
    });
    if (pairs.length < 3) continue;
    const m = aspectMetrics(pairs.map((p) => p[0]), pairs.map((p) => p[1]));
    const r = (v: number | null) => (v === null || Number.isNaN(v) ? v : Math.round(v * 10000) / 10000);
    out[aspect] = { n: m.n, srcc: r(m.srcc)!, plcc: r(m.plcc)!, plccLogistic: r(m.plccLogistic), krcc: r(m.krcc)!, rmse: r(m.rmse)!, rmseLogistic: r(m.rmseLogistic) };
  }
  return out;
}

/**
 * Labels (resumably), then trains. Throws AGQ_ERR_DATASET_NOT_FOUND without images, AGQ_ERR_TRAINING_FAILED
 * when the teacher judges no aspect the fast pack has or labels too few images, and trainPredictor's errors.
 */
export async function distill(options: DistillOptions): Promise<DistillResult> {
  const { teacher, base } = options;
  const aspects = teacher.aspects.filter((a) => base.manifest.aspects.includes(a));
  if (aspects.length === 0) {
    throw agiqaError('AGQ_ERR_TRAINING_FAILED', { step: 'matching aspects', detail: `the teacher judges ${teacher.aspects.join(', ')} but pack "${base.manifest.name}" ${base.manifest.aspects.join(', ')}` });
  }
  const inputs = await readInputs(options);
  const labelFile = join(resolve(options.out), LABEL_FILE);
  const cache = await LabelCache.open(labelFile);
  const toLabel: LabelItem[] = inputs.items.map((item) => ({ name: item.name, path: item.path!, prompt: item.prompt }));
  const outcome = await labelImages(toLabel, teacher, cache, { concurrency: options.concurrency, aspects, onProgress: options.onLabel, signal: options.signal });

  const teacherMos = new Map<string, Partial<Record<Aspect, number>>>();
  for (const [name, byAspect] of outcome.labels) {
    const mos: Partial<Record<Aspect, number>> = {};
    for (const [aspect, record] of Object.entries(byAspect)) if (record.mos !== null) mos[aspect as Aspect] = record.mos;
    teacherMos.set(name, mos);
  }
  // the student's split is its own (seeded); the human ratings only measure
  const labelled = inputs.items.filter((item) => aspects.some((a) => teacherMos.get(item.name)?.[a] !== undefined));
  const splits = randomSplit(labelled.length, 0.2, 0.1, options.seed);
  const items: DatasetItem[] = labelled.map((item, i) => ({ ...item, mos: teacherMos.get(item.name)!, split: splits[i]! }));
  const humanBySplit = (split: 'all' | 'test') => labelled.filter((_, i) => split === 'all' || splits[i] === 'test');
  const teacherVsHuman = inputs.rated ? { all: measureTeacher(humanBySplit('all'), teacherMos, aspects), test: measureTeacher(humanBySplit('test'), teacherMos, aspects) } : null;
  const result: DistillResult = { labelFile, labelled: labelled.length, asked: outcome.asked, cached: outcome.cached, failed: outcome.failed, teacherVsHuman, train: null };
  if (options.labelOnly === true) return result;

  const counts = { train: 0, val: 0, test: 0 };
  for (const item of items) counts[item.split]++;
  const dataset: Dataset = {
    format: 'csv',
    labelFiles: [labelFile],
    imageDir: resolve(options.images),
    aspects: aspects.filter((a) => items.some((item) => item.mos[a] !== undefined)),
    items,
    split: { scheme: 'random 8:2 of the labelled images, 10% of train held out for validation', seed: options.seed, counts },
  };
  result.train = await trainPredictor({
    dataset,
    base,
    out: options.out,
    seed: options.seed,
    epochs: options.epochs,
    kinds: options.kinds,
    trainerArgs: options.trainerArgs,
    home: options.home,
    workers: options.workers,
    onExtract: options.onExtract,
    onTrainerLine: options.onTrainerLine,
    provenance: {
      method: 'distilled: a judge labelled the images (level distribution → MOS per aspect), the M3 predictor learned the labels',
      teacher: { pack: options.teacherPack, model: teacher.model, promptVersion: teacher.promptVersion, aspects },
      labels: { file: LABEL_FILE, source: inputs.source, images: labelled.length, failed: outcome.failed.length },
      ...(teacherVsHuman === null ? {} : { teacherVsHuman }),
    },
  });
  return result;
}
