// Readers for the AI-generated-image quality datasets exactly as their authors publish them
// (AGIQA-3K, AIGCIQA2023, AIGIQA-20K) plus a generic CSV for users' own ratings, and the papers'
// train/test splits with a fixed seed. Everything ends up on the MOS 0–5 scale of score-result.ts.
import { access, readdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import { agiqaError } from '../errors/index.js';
import { ASPECTS, type Aspect } from '../scoring/score-result.js';

export const DATASET_FORMATS = ['agiqa-3k', 'aigciqa2023', 'aigiqa-20k', 'csv'] as const;
export type DatasetFormat = (typeof DATASET_FORMATS)[number];
export type SplitName = 'train' | 'val' | 'test';

export interface DatasetItem {
  /** The image's name as the label file writes it. */
  name: string;
  /** Absolute path where the image was found, or null when it is missing on disk. */
  path: string | null;
  prompt: string | null;
  /** Ground-truth MOS on 0–5 for each aspect the dataset rates. */
  mos: Partial<Record<Aspect, number>>;
  split: SplitName;
  /** The generator that made the image, when the dataset says (AIGCIQA2023, AIGIQA-20K). */
  generator?: string | undefined;
}

export interface SplitInfo {
  /** What the split follows, e.g. "AGIQA-3K random 8:2 (paper), 10% of train held out for validation". */
  scheme: string;
  seed: number;
  counts: Record<SplitName, number>;
}

export interface Dataset {
  format: DatasetFormat;
  /** The label files read. */
  labelFiles: string[];
  /** The folder images were looked up in. */
  imageDir: string;
  aspects: Aspect[];
  items: DatasetItem[];
  split: SplitInfo;
}

export interface ReadDatasetOptions {
  format?: DatasetFormat | undefined;
  /** Folder with the images when it is not next to the label file (or one of its usual subfolders). */
  images?: string | undefined;
  seed?: number | undefined;
  /** Part of the training portion kept aside for model selection (default 0.1). */
  validationFraction?: number | undefined;
  /** A generic CSV may list images without ratings (agiqa distill labels them); default true. */
  requireMos?: boolean | undefined;
}

export const DEFAULT_SPLIT_SEED = 42;

/** AIGCIQA2023's pic-index.xlsx: image i.png was made by generator ⌊i / 400⌋ (100 prompts × 4 images each). */
export const AIGCIQA2023_GENERATORS = ['Controlnet', 'DALLE', 'Glide', 'Lafite', 'SD', 'Unidiffuser'] as const;

const LABEL_FILES: Record<Exclude<DatasetFormat, 'csv'>, string[]> = {
  'agiqa-3k': ['data.csv'],
  aigciqa2023: ['AIGCIQA2023.csv'],
  'aigiqa-20k': ['info_train.csv', 'info_val.csv', 'info_test.csv'],
};

// Where the published archives put the images relative to the label file.
const IMAGE_SUBFOLDERS = ['', 'images', 'Image/allimg', 'allimg', 'AGIQA-3K', 'AIGCQA_20K', 'AIGIQA-20K'];

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

type Row = Record<string, string>;

async function readCsv(file: string): Promise<{ columns: string[]; rows: Row[] }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw agiqaError('AGQ_ERR_DATASET_NOT_FOUND', { dataset: file, detail: `cannot read the label file (${(cause as Error).message})` }, { cause });
  }
  let records: string[][];
  // relax_quotes: AIGCIQA2023.csv has bare quotes inside unquoted fields (a dog saying "I see…").
  try {
    records = parse(text, { bom: true, skip_empty_lines: true, relax_column_count: false, relax_quotes: true }) as string[][];
  } catch (cause) {
    throw agiqaError('AGQ_ERR_DATASET_INVALID', { file, issues: [(cause as Error).message] }, { cause });
  }
  const [header, ...body] = records;
  if (header === undefined) throw agiqaError('AGQ_ERR_DATASET_INVALID', { file, issues: ['the file is empty'] });
  const columns = header.map((c) => c.trim());
  return { columns, rows: body.map((r) => Object.fromEntries(columns.map((c, i) => [c, r[i] ?? '']))) };
}

function requireColumns(file: string, columns: string[], needed: string[]): void {
  const missing = needed.filter((c) => !columns.includes(c));
  if (missing.length > 0) {
    throw agiqaError('AGQ_ERR_DATASET_INVALID', { file, issues: [`missing column(s) ${missing.join(', ')} (found ${columns.join(', ')})`] });
  }
}

/** Parses a MOS cell; pushes an issue naming the row and column when it is not a number in range. */
function mosCell(row: Row, column: string, line: number, divisor: number, issues: string[]): number | undefined {
  const raw = row[column]?.trim() ?? '';
  const value = Number(raw) / divisor;
  if (raw === '' || !Number.isFinite(value) || value < 0 || value > 5) {
    if (issues.length < 20) issues.push(`line ${line}: ${column} is "${raw}", expected a number on 0–${5 * divisor}`);
    return undefined;
  }
  return value;
}

interface RawItem {
  name: string;
  prompt: string | null;
  mos: Partial<Record<Aspect, number>>;
  generator?: string | undefined;
  split?: SplitName | undefined;
}

async function readAgiqa3k(file: string): Promise<{ items: RawItem[]; aspects: Aspect[] }> {
  const { columns, rows } = await readCsv(file);
  requireColumns(file, columns, ['name', 'prompt', 'mos_quality', 'mos_align']);
  const issues: string[] = [];
  const items = rows.map((row, i) => ({
    name: row.name!,
    prompt: row.prompt || null,
    mos: { quality: mosCell(row, 'mos_quality', i + 2, 1, issues), correspondence: mosCell(row, 'mos_align', i + 2, 1, issues) },
  }));
  if (issues.length > 0) throw agiqaError('AGQ_ERR_DATASET_INVALID', { file, issues });
  return { items: items as RawItem[], aspects: ['quality', 'correspondence'] };
}

async function readAigciqa2023(file: string): Promise<{ items: RawItem[]; aspects: Aspect[] }> {
  const { columns, rows } = await readCsv(file);
  requireColumns(file, columns, ['name', 'prompt', 'quality_mos', 'authenticity_mos', 'correspondence_mos']);
  const issues: string[] = [];
  const items = rows.map((row, i) => {
    const index = Number.parseInt(row.name!, 10);
    return {
      name: row.name!,
      prompt: row.prompt || null,
      // Published on 0–100; the papers divide by 20 to share the 0–5 scale.
      mos: {
        quality: mosCell(row, 'quality_mos', i + 2, 20, issues),
        authenticity: mosCell(row, 'authenticity_mos', i + 2, 20, issues),
        correspondence: mosCell(row, 'correspondence_mos', i + 2, 20, issues),
      },
      generator: Number.isInteger(index) ? AIGCIQA2023_GENERATORS[Math.floor(index / 400)] : undefined,
    };
  });
  if (issues.length > 0) throw agiqaError('AGQ_ERR_DATASET_INVALID', { file, issues });
  return { items: items as RawItem[], aspects: ['quality', 'correspondence', 'authenticity'] };
}

async function readAigiqa20k(files: string[]): Promise<{ items: RawItem[]; aspects: Aspect[] }> {
  const items: RawItem[] = [];
  for (const file of files) {
    const split: SplitName = file.endsWith('info_train.csv') ? 'train' : file.endsWith('info_val.csv') ? 'val' : 'test';
    const { columns, rows } = await readCsv(file);
    requireColumns(file, columns, ['name', 'prompt', 'mos']);
    const issues: string[] = [];
    for (const [i, row] of rows.entries()) {
      const quality = mosCell(row, 'mos', i + 2, 1, issues);
      // The generator is the file name's prefix: DALLE2_0000.png, SD1.5_0123.png.
      items.push({ name: row.name!, prompt: row.prompt || null, mos: { quality }, generator: row.name!.split('_')[0], split });
    }
    if (issues.length > 0) throw agiqaError('AGQ_ERR_DATASET_INVALID', { file, issues });
  }
  return { items, aspects: ['quality'] };
}

/**
 * image,prompt,mos — or mos_quality / mos_correspondence / mos_authenticity — and an optional split
 * column. `path` is accepted for `image` (the synthetic-distortion set of training/lite writes it).
 */
async function readGenericCsv(file: string, requireMos = true): Promise<{ items: RawItem[]; aspects: Aspect[] }> {
  const { columns, rows } = await readCsv(file);
  const imageColumn = columns.includes('image') ? 'image' : columns.includes('path') ? 'path' : 'image';
  requireColumns(file, columns, [imageColumn]);
  const mosColumns = columns.filter((c) => c === 'mos' || c.startsWith('mos_'));
  const unknown = mosColumns.filter((c) => c !== 'mos' && !ASPECTS.includes(c.slice(4) as Aspect));
  const issues: string[] = [];
  if (mosColumns.length === 0 && requireMos) issues.push(`no MOS column: expected mos or one of ${ASPECTS.map((a) => `mos_${a}`).join(', ')}`);
  if (unknown.length > 0) issues.push(`unknown MOS column(s) ${unknown.join(', ')}: the aspects are ${ASPECTS.join(', ')}`);
  if (mosColumns.includes('mos') && mosColumns.includes('mos_quality')) issues.push('both mos and mos_quality given; mos means quality, keep one');
  if (issues.length > 0) throw agiqaError('AGQ_ERR_DATASET_INVALID', { file, issues });
  const aspectOf = (column: string): Aspect => (column === 'mos' ? 'quality' : (column.slice(4) as Aspect));
  const items = rows.map((row, i): RawItem => {
    const mos: Partial<Record<Aspect, number>> = {};
    for (const column of mosColumns) {
      // An empty cell means "not rated for this aspect", which users' own sheets often have.
      if ((row[column] ?? '').trim() === '') continue;
      const value = mosCell(row, column, i + 2, 1, issues);
      if (value !== undefined) mos[aspectOf(column)] = value;
    }
    const split = row.split?.trim();
    if (split !== undefined && split !== '' && !['train', 'val', 'test'].includes(split)) {
      issues.push(`line ${i + 2}: split is "${split}", expected train, val or test`);
    }
    return { name: row[imageColumn]!, prompt: row.prompt || null, mos, split: split ? (split as SplitName) : undefined };
  });
  if (issues.length > 0) throw agiqaError('AGQ_ERR_DATASET_INVALID', { file, issues });
  return { items, aspects: [...new Set(mosColumns.map(aspectOf))] };
}

/** A small seeded generator (mulberry32): the same seed gives the same split on every machine. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled<T>(values: readonly T[], random: () => number): T[] {
  const out = [...values];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/**
 * Assigns train / val / test: `testFraction` of the items to test at random (seeded), then
 * `validationFraction` of the rest to val. The papers picked checkpoints on their test split; we keep
 * a separate validation part so the test numbers stay honest.
 */
export function randomSplit(count: number, testFraction: number, validationFraction: number, seed: number): SplitName[] {
  const order = shuffled(
    Array.from({ length: count }, (_, i) => i),
    seededRandom(seed),
  );
  const testCount = Math.round(count * testFraction);
  const valCount = Math.round((count - testCount) * validationFraction);
  const splits = new Array<SplitName>(count);
  order.forEach((index, position) => {
    splits[index] = position < testCount ? 'test' : position < testCount + valCount ? 'val' : 'train';
  });
  return splits;
}

async function detectFormat(dir: string): Promise<DatasetFormat> {
  for (const format of ['agiqa-3k', 'aigciqa2023', 'aigiqa-20k'] as const) {
    for (const file of LABEL_FILES[format]) if (await exists(join(dir, file))) return format;
  }
  const csvs = (await readdir(dir)).filter((f) => f.toLowerCase().endsWith('.csv'));
  if (csvs.length === 1) return 'csv';
  throw agiqaError('AGQ_ERR_DATASET_NOT_FOUND', {
    dataset: dir,
    detail:
      csvs.length === 0
        ? 'no label file found (data.csv, AIGCIQA2023.csv, info_train.csv/info_test.csv, or a CSV of your own)'
        : `several CSV files (${csvs.join(', ')}) and none of the published names; pass the CSV file itself or --format`,
  });
}

async function findImageDir(root: string, names: readonly string[], explicit: string | undefined): Promise<string> {
  if (explicit !== undefined) return resolve(explicit);
  // Pick the usual subfolder that holds the first few listed images.
  const probe = names.slice(0, 5);
  for (const sub of IMAGE_SUBFOLDERS) {
    const dir = join(root, sub);
    let found = 0;
    for (const name of probe) if (await exists(resolve(dir, name))) found++;
    if (found > 0) return dir;
  }
  return root;
}

/**
 * Reads a dataset from its folder (or its label file) and assigns the split.
 * Throws AGQ_ERR_DATASET_NOT_FOUND when no label file is there, AGQ_ERR_DATASET_INVALID listing every
 * bad column or cell (at most 20). Missing images are not an error: their `path` is null.
 */
export async function readDataset(location: string, options: ReadDatasetOptions = {}): Promise<Dataset> {
  const target = resolve(location);
  let info;
  try {
    info = await stat(target);
  } catch (cause) {
    throw agiqaError('AGQ_ERR_DATASET_NOT_FOUND', { dataset: location, detail: 'no such file or directory' }, { cause });
  }
  const root = info.isDirectory() ? target : dirname(target);
  let format = options.format;
  if (format === undefined) {
    if (info.isDirectory()) format = await detectFormat(root);
    else {
      const name = basename(target);
      format = name === 'data.csv' ? 'agiqa-3k' : name === 'AIGCIQA2023.csv' ? 'aigciqa2023' : name.startsWith('info_') ? 'aigiqa-20k' : 'csv';
    }
  }

  let labelFiles: string[];
  if (!info.isDirectory()) labelFiles = [target];
  else if (format === 'csv') labelFiles = (await readdir(root)).filter((f) => f.toLowerCase().endsWith('.csv')).map((f) => join(root, f));
  else {
    labelFiles = [];
    for (const file of LABEL_FILES[format]) if (await exists(join(root, file))) labelFiles.push(join(root, file));
  }
  if (labelFiles.length === 0 || (format === 'csv' && labelFiles.length !== 1)) {
    const expected = format === 'csv' ? 'exactly one CSV file (or pass the file itself)' : LABEL_FILES[format].join(' or ');
    throw agiqaError('AGQ_ERR_DATASET_NOT_FOUND', { dataset: location, detail: `no ${format} label file: expected ${expected}` });
  }

  const read =
    format === 'agiqa-3k'
      ? await readAgiqa3k(labelFiles[0]!)
      : format === 'aigciqa2023'
        ? await readAigciqa2023(labelFiles[0]!)
        : format === 'aigiqa-20k'
          ? await readAigiqa20k(labelFiles)
          : await readGenericCsv(labelFiles[0]!, options.requireMos);

  const seed = options.seed ?? DEFAULT_SPLIT_SEED;
  const validationFraction = options.validationFraction ?? 0.1;
  let splits: SplitName[];
  let scheme: string;
  const held = `${Math.round(validationFraction * 100)}% of train held out for validation`;
  if (format === 'aigiqa-20k') {
    splits = read.items.map((item) => item.split!);
    scheme = 'AIGIQA-20K official train/val/test files';
  } else if (format === 'csv' && read.items.some((item) => item.split !== undefined)) {
    splits = read.items.map((item) => item.split ?? 'train');
    scheme = 'the CSV split column (rows without one are train)';
  } else {
    const testFraction = format === 'aigciqa2023' ? 0.25 : 0.2;
    splits = randomSplit(read.items.length, testFraction, validationFraction, seed);
    scheme =
      format === 'agiqa-3k'
        ? `AGIQA-3K random 8:2 (paper), ${held}`
        : format === 'aigciqa2023'
          ? `AIGCIQA2023 random 3:1 (paper; one split for all three aspects), ${held}`
          : `random 8:2, ${held}`;
  }

  const imageDir = await findImageDir(root, read.items.map((item) => item.name), options.images);
  const items: DatasetItem[] = [];
  for (const [i, raw] of read.items.entries()) {
    // resolve, not join: a generic CSV may list absolute paths
    const path = resolve(imageDir, raw.name);
    items.push({ name: raw.name, path: (await exists(path)) ? path : null, prompt: raw.prompt, mos: raw.mos, split: splits[i]!, generator: raw.generator });
  }
  const counts = { train: 0, val: 0, test: 0 };
  for (const item of items) counts[item.split]++;
  return { format, labelFiles, imageDir, aspects: read.aspects, items, split: { scheme, seed, counts } };
}

/** The items of one split, or all of them for 'all'. */
export function selectSplit(dataset: Dataset, split: SplitName | 'all'): DatasetItem[] {
  return split === 'all' ? dataset.items : dataset.items.filter((item) => item.split === split);
}
