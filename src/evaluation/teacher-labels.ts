// Labels images with a teacher (a judge: a local multimodal model server) for `agiqa distill`, one
// answer per image and aspect, appended to a JSON Lines cache as each arrives. The key is the image's
// sha256, the prompt's, the aspect, the model and the round texts' version, so a rerun (after a crash,
// a kill or Ctrl-C) asks only what is missing, and a changed model or prompt is asked again.
import { createHash } from 'node:crypto';
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { isAgiqaError } from '../errors/index.js';
import type { Aspect } from '../model/aspects.js';

/** One aspect's answer as the teacher gives it. */
export interface TeacherAnswer {
  /** MOS 0–5 by expectation over the level probabilities (or the word alone); null without a level. */
  mos: number | null;
  /** Probabilities over bad…excellent from the round-2 log-probabilities; null when the server gave none. */
  probabilities: number[] | null;
  levelIndex: number | null;
  /** The round-1 description. */
  description: string | null;
  /** Why mos is null. */
  reason?: string | undefined;
}

/** A judge as distill needs it; the judge pack's scorer provides one (see distill-teacher.ts). */
export interface Teacher {
  /** The model the server runs, as it names it (recorded in the new pack's provenance). */
  readonly model: string;
  /** Version of the round texts (their hash): part of the cache key. */
  readonly promptVersion: string;
  readonly aspects: readonly Aspect[];
  /** Asks the given aspects of one image (concurrently where the teacher can). Throws coded errors. */
  judge(request: { image: Uint8Array; name: string; prompt: string | null; aspects: readonly Aspect[] }): Promise<Partial<Record<Aspect, TeacherAnswer>>>;
  close(): Promise<void>;
}

export interface LabelRecord extends TeacherAnswer {
  key: string;
  image: string;
  name: string;
  aspect: Aspect;
  model: string;
  ms: number;
}

export function labelKey(parts: { imageSha256: string; prompt: string | null; aspect: Aspect; model: string; promptVersion: string }): string {
  const prompt = createHash('sha256').update(parts.prompt ?? '').digest('hex').slice(0, 16);
  return createHash('sha256').update([parts.imageSha256, prompt, parts.aspect, parts.model, parts.promptVersion].join('\n')).digest('hex');
}

/** The JSON Lines cache: read whole at start (a torn last line from a kill is ignored), appended per answer. */
export class LabelCache {
  private constructor(
    readonly path: string,
    private readonly records: Map<string, LabelRecord>,
  ) {}

  static async open(path: string): Promise<LabelCache> {
    const records = new Map<string, LabelRecord>();
    const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return '';
      throw error;
    });
    for (const line of text.split('\n')) {
      if (line.trim() === '') continue;
      try {
        const record = JSON.parse(line) as LabelRecord;
        if (typeof record.key === 'string') records.set(record.key, record);
      } catch {
        // a line cut short by a kill mid-write: that answer is asked again
      }
    }
    await mkdir(dirname(path), { recursive: true });
    // end a torn last line, so the next answer starts a line of its own
    if (text !== '' && !text.endsWith('\n')) await appendFile(path, '\n');
    return new LabelCache(path, records);
  }

  get size(): number {
    return this.records.size;
  }

  get(key: string): LabelRecord | undefined {
    return this.records.get(key);
  }

  async add(record: LabelRecord): Promise<void> {
    this.records.set(record.key, record);
    // one write per line, so a kill leaves at most the line being written torn
    await appendFile(this.path, `${JSON.stringify(record)}\n`);
  }
}

export interface LabelItem {
  name: string;
  path: string;
  prompt: string | null;
}

export interface LabelProgress {
  done: number;
  total: number;
  /** Answers taken from the cache so far. */
  cached: number;
  /** Median seconds per asked image (all aspects), once a few were asked; null before. */
  secondsPerImage: number | null;
  /** Seconds left at that pace for the images not yet done. */
  etaSeconds: number | null;
}

export interface LabelOutcome {
  labels: Map<string, Partial<Record<Aspect, LabelRecord>>>;
  failed: { name: string; reason: string }[];
  asked: number;
  cached: number;
  /** Images whose every answer came from the cache. */
  fromCache: Set<string>;
}

const ESTIMATE_AFTER = 3;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * Asks the teacher each aspect (default: all it judges) of every image not in the cache,
 * `concurrency` images at a time.
 * An image the teacher cannot answer for (a coded error) is listed in `failed`, not fatal; other
 * errors stop the run, with every answer so far kept in the cache.
 */
export async function labelImages(
  items: readonly LabelItem[],
  teacher: Teacher,
  cache: LabelCache,
  options: { concurrency: number; aspects?: readonly Aspect[] | undefined; onProgress?: ((progress: LabelProgress) => void) | undefined; signal?: AbortSignal | undefined },
): Promise<LabelOutcome> {
  const labels = new Map<string, Partial<Record<Aspect, LabelRecord>>>();
  const failed: { name: string; reason: string }[] = [];
  const fromCache = new Set<string>();
  const durations: number[] = [];
  let done = 0;
  let cached = 0;
  let asked = 0;
  const report = () => {
    const pace = durations.length >= ESTIMATE_AFTER ? median(durations) / Math.max(1, options.concurrency) : null;
    options.onProgress?.({ done, total: items.length, cached, secondsPerImage: pace, etaSeconds: pace === null ? null : pace * (items.length - done) });
  };
  report();
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      options.signal?.throwIfAborted();
      const item = items[next++]!;
      const bytes = await readFile(item.path);
      const imageSha256 = createHash('sha256').update(bytes).digest('hex');
      const byAspect: Partial<Record<Aspect, LabelRecord>> = {};
      const start = performance.now();
      const keyOf = (aspect: Aspect) => labelKey({ imageSha256, prompt: item.prompt, aspect, model: teacher.model, promptVersion: teacher.promptVersion });
      const missing: Aspect[] = [];
      for (const aspect of options.aspects ?? teacher.aspects) {
        const hit = cache.get(keyOf(aspect));
        if (hit === undefined) missing.push(aspect);
        else {
          byAspect[aspect] = hit;
          cached++;
        }
      }
      try {
        if (missing.length > 0) {
          const answers = await teacher.judge({ image: bytes, name: item.name, prompt: item.prompt, aspects: missing });
          const ms = Math.round(performance.now() - start);
          for (const aspect of missing) {
            const answer = answers[aspect] ?? { mos: null, probabilities: null, levelIndex: null, description: null, reason: 'the teacher gave no answer for this aspect' };
            const record: LabelRecord = { key: keyOf(aspect), image: imageSha256, name: item.name, aspect, model: teacher.model, ms, ...answer };
            await cache.add(record);
            byAspect[aspect] = record;
            asked++;
          }
          durations.push((performance.now() - start) / 1000);
        } else fromCache.add(item.name);
        labels.set(item.name, byAspect);
      } catch (error) {
        if (!isAgiqaError(error)) throw error;
        failed.push({ name: item.name, reason: `${error.message} [${error.code}]` });
      }
      done++;
      report();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, worker));
  return { labels, failed, asked, cached, fromCache };
}
