// `--split-file`: the train/test lists a paper published, so figures compare with its tables. Reads the
// M3-AGIQA reference repo's processed data lists (strawhatboy/M3-AGIQA `data_processed/`: a JSON array
// of {id, image, conversations}, despite some files' .jsonl suffix) and the same lists converted to CSV
// (a `name` column, e.g. agiqa3k_quality_train.csv). Only which image is in which split is taken.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { parse } from 'csv-parse/sync';
import { agiqaError } from '../errors/index.js';
import { randomSplit, type Dataset, type DatasetItem, type SplitName } from './datasets.js';

export interface SplitFileSpec {
  /** The split the file's images go to; null: inferred from the file name. */
  split: SplitName | null;
  path: string;
}

export interface SplitList {
  split: SplitName;
  path: string;
  format: 'm3agiqa-json' | 'csv';
  /** Image file names (basenames), in the file's order. */
  names: string[];
}

const SPLITS: readonly SplitName[] = ['train', 'val', 'test'];
// Both spellings name files: agiqa3k_quality_train.csv, directly_test_cls_…, gemini_on_…_val_quality.json
const SPLIT_WORD = /(?:^|[^a-z])(train|val|test)(?:[^a-z]|$)/gi;
const MAX_SPLIT_FILE_BYTES = 256 * 1024 * 1024;

/** Parses `PATH` or `SPLIT=PATH` (SPLIT one of train, val, test); throws AGQ_ERR_USAGE on another prefix. */
export function parseSplitFileArg(arg: string): SplitFileSpec {
  const match = /^([a-z]+)=(.+)$/i.exec(arg);
  if (match === null) return { split: null, path: arg };
  const split = match[1]!.toLowerCase();
  if (!SPLITS.includes(split as SplitName)) {
    throw agiqaError('AGQ_ERR_USAGE', { problem: `Expected train=, val= or test= before the path for --split-file but received "${match[1]}="` });
  }
  return { split: split as SplitName, path: match[2]! };
}

/** The split a file name names (one of train, val, test as a word), or null when none or several. */
export function splitOfFileName(path: string): SplitName | null {
  const found = new Set([...basename(path).matchAll(SPLIT_WORD)].map((m) => m[1]!.toLowerCase() as SplitName));
  return found.size === 1 ? [...found][0]! : null;
}

function invalid(file: string, issues: string[]): never {
  throw agiqaError('AGQ_ERR_DATASET_INVALID', { file, issues });
}

/** Names from the reference repo's JSON: the basename of each entry's `image` (the authors' absolute path). */
function namesFromJson(file: string, text: string): string[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    // JSON Lines is accepted too: one {image, …} object per line
    try {
      value = text.split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line) as unknown);
    } catch (cause) {
      throw agiqaError('AGQ_ERR_DATASET_INVALID', { file, issues: [`neither a JSON array nor JSON Lines: ${(cause as Error).message}`] }, { cause });
    }
  }
  if (!Array.isArray(value)) invalid(file, ['expected a JSON array of {id, image, conversations} entries (M3-AGIQA data_processed format)']);
  const issues: string[] = [];
  const names = value.flatMap((entry, i) => {
    const image = (entry as { image?: unknown } | null)?.image;
    if (typeof image !== 'string' || image.trim() === '') {
      if (issues.length < 20) issues.push(`entry ${i}: no "image" path`);
      return [];
    }
    return [basename(image.replace(/\\/g, '/'))];
  });
  if (issues.length > 0) invalid(file, issues);
  return names;
}

function namesFromCsv(file: string, text: string): string[] {
  let records: Record<string, string>[];
  try {
    records = parse(text, { bom: true, columns: true, skip_empty_lines: true, relax_quotes: true }) as Record<string, string>[];
  } catch (cause) {
    throw agiqaError('AGQ_ERR_DATASET_INVALID', { file, issues: [(cause as Error).message] }, { cause });
  }
  const first = records[0];
  const column = first === undefined ? 'name' : ['name', 'image'].find((c) => c in first);
  if (first !== undefined && column === undefined) invalid(file, [`no name column (found ${Object.keys(first).join(', ')}); expected name (or image)`]);
  return records.map((r) => basename(r[column!]!.trim().replace(/\\/g, '/'))).filter((n) => n !== '');
}

/**
 * Reads one split list. Throws AGQ_ERR_DATASET_NOT_FOUND when unreadable, AGQ_ERR_USAGE when the split
 * is neither given nor in the file name, AGQ_ERR_DATASET_INVALID when the content is neither format.
 */
export async function readSplitFile(spec: SplitFileSpec): Promise<SplitList> {
  const split = spec.split ?? splitOfFileName(spec.path);
  if (split === null) {
    throw agiqaError('AGQ_ERR_USAGE', { problem: `Cannot tell the split of ${spec.path} from its name; write --split-file train=${spec.path} (or val=, test=)` });
  }
  let text: string;
  try {
    const bytes = await readFile(spec.path);
    if (bytes.length > MAX_SPLIT_FILE_BYTES) invalid(spec.path, [`${bytes.length} bytes is more than a split list can be (${MAX_SPLIT_FILE_BYTES})`]);
    text = bytes.toString('utf8');
  } catch (cause) {
    if ((cause as { code?: string }).code?.startsWith('AGQ_ERR_')) throw cause;
    throw agiqaError('AGQ_ERR_DATASET_NOT_FOUND', { dataset: spec.path, detail: `cannot read the split file (${(cause as Error).message})` }, { cause });
  }
  const trimmed = text.trimStart().replace(/^\uFEFF/, '');
  const json = trimmed.startsWith('[') || trimmed.startsWith('{');
  const names = json ? namesFromJson(spec.path, trimmed) : namesFromCsv(spec.path, text);
  if (names.length === 0) invalid(spec.path, ['lists no image']);
  return { split, path: spec.path, format: json ? 'm3agiqa-json' : 'csv', names };
}

export interface SplitFileReport {
  files: { path: string; split: SplitName; format: SplitList['format']; listed: number; matched: number }[];
  /** Dataset items in no list: left out of train, val and test. */
  unlisted: number;
}

/**
 * Reassigns the dataset's splits from the lists: an image's basename decides. Without a val list,
 * `validationFraction` of the train list (seeded) becomes val, as the random splits do. Items in no
 * list are dropped. Throws AGQ_ERR_DATASET_INVALID when an image is in two lists or no list matches.
 */
export function applySplitLists(dataset: Dataset, lists: readonly SplitList[], options: { seed: number; validationFraction?: number | undefined }): { dataset: Dataset; report: SplitFileReport } {
  const splitOf = new Map<string, SplitName>();
  const issues: string[] = [];
  for (const list of lists) {
    for (const name of list.names) {
      const before = splitOf.get(name);
      if (before !== undefined && before !== list.split && issues.length < 20) issues.push(`${name} is listed for both ${before} and ${list.split}`);
      splitOf.set(name, list.split);
    }
  }
  if (issues.length > 0) invalid(lists.map((l) => l.path).join(', '), issues);
  const byBasename = (item: DatasetItem) => splitOf.get(basename(item.name.replace(/\\/g, '/')));
  const kept = dataset.items.filter((item) => byBasename(item) !== undefined).map((item) => ({ ...item, split: byBasename(item)! }));
  if (kept.length === 0) {
    invalid(lists.map((l) => l.path).join(', '), [`none of the listed images is in the dataset (e.g. ${lists[0]?.names[0] ?? '—'} vs ${dataset.items[0]?.name ?? '—'})`]);
  }
  const validationFraction = options.validationFraction ?? 0.1;
  const hasVal = lists.some((l) => l.split === 'val');
  if (!hasVal) {
    const train = kept.filter((item) => item.split === 'train');
    randomSplit(train.length, 0, validationFraction, options.seed).forEach((split, i) => {
      if (split === 'val') train[i]!.split = 'val';
    });
  }
  const counts = { train: 0, val: 0, test: 0 };
  for (const item of kept) counts[item.split]++;
  const names = new Set(dataset.items.map((item) => basename(item.name.replace(/\\/g, '/'))));
  const files = lists.map((l) => ({ path: l.path, split: l.split, format: l.format, listed: l.names.length, matched: l.names.filter((n) => names.has(n)).length }));
  const held = hasVal ? 'val from its list' : `${Math.round(validationFraction * 100)}% of train held out for validation`;
  const scheme = `split files ${lists.map((l) => `${l.split}=${basename(l.path)}`).join(', ')} (${held})`;
  return {
    dataset: { ...dataset, items: kept, split: { scheme, seed: options.seed, counts } },
    report: { files, unlisted: dataset.items.length - kept.length },
  };
}

/** Reads every --split-file argument and applies them; see readSplitFile and applySplitLists for errors. */
export async function withSplitFiles(dataset: Dataset, args: readonly string[], seed: number): Promise<{ dataset: Dataset; report: SplitFileReport }> {
  const lists: SplitList[] = [];
  for (const arg of args) lists.push(await readSplitFile(parseSplitFileArg(arg)));
  return applySplitLists(dataset, lists, { seed });
}
