// Scores a dataset's images with a Scorer and measures the predictions against the ground truth,
// per aspect, in the papers' protocol. Missing and unreadable images are listed, never fatal.
import { readFile } from 'node:fs/promises';
import { isAgiqaError } from '../errors/index.js';
import type { Aspect, ScoreResult, Scorer } from '../scoring/index.js';
import { selectSplit, type Dataset, type SplitName } from './datasets.js';
import { aspectMetrics, type AspectMetrics } from './metrics.js';

export interface EvaluateOptions {
  split: SplitName | 'all';
  /** Aspects to measure; default: every aspect the dataset rates. */
  aspects?: readonly Aspect[] | undefined;
  /** Images read and scored at once (default 8: enough to keep a worker pool busy, bounded memory). */
  concurrency?: number | undefined;
  onProgress?: ((done: number, total: number) => void) | undefined;
}

export interface Prediction {
  name: string;
  mos: Partial<Record<Aspect, number>>;
  predicted: Partial<Record<Aspect, number>>;
}

export interface EvaluationReport {
  dataset: {
    format: string;
    labelFiles: string[];
    imageDir: string;
    split: SplitName | 'all';
    splitScheme: string;
    seed: number;
    /** Images listed in the selected split. */
    listed: number;
    scored: number;
  };
  pack: { name: string; version: string };
  /** Metrics per aspect that both the dataset rates and the pack judged. */
  aspects: Partial<Record<Aspect, AspectMetrics>>;
  /** Aspects asked for but not judged by the pack, with the pack's reason. */
  notJudged: Partial<Record<Aspect, string>>;
  missing: string[];
  failed: { name: string; code: string; message: string }[];
  predictions: Prediction[];
  createdAt: string;
}

/**
 * Scores the selected split and computes metrics. Throws only what the scorer throws for reasons
 * other than a bad image (e.g. AGQ_ERR_WORKER_FAILED); image problems land in `failed`.
 */
export async function evaluateDataset(scorer: Scorer, dataset: Dataset, options: EvaluateOptions): Promise<EvaluationReport> {
  const items = selectSplit(dataset, options.split);
  const aspects = (options.aspects ?? dataset.aspects).filter((a) => dataset.aspects.includes(a));
  const present = items.filter((item) => item.path !== null);
  const missing = items.filter((item) => item.path === null).map((item) => item.name);
  const failed: EvaluationReport['failed'] = [];
  const results = new Map<string, ScoreResult>();

  let done = 0;
  let next = 0;
  options.onProgress?.(0, present.length);
  const lane = async (): Promise<void> => {
    while (next < present.length) {
      const item = present[next++]!;
      try {
        const image = await readFile(item.path!);
        results.set(item.name, await scorer.score({ image, name: item.path!, prompt: item.prompt ?? undefined }));
      } catch (error) {
        if (isAgiqaError(error)) failed.push({ name: item.name, code: error.code, message: error.message });
        else if ((error as NodeJS.ErrnoException).code !== undefined) failed.push({ name: item.name, code: (error as NodeJS.ErrnoException).code!, message: (error as Error).message });
        else throw error;
      }
      done++;
      options.onProgress?.(done, present.length);
    }
  };
  const concurrency = Math.max(1, options.concurrency ?? 8);
  await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(1, present.length)) }, lane));

  const predictions: Prediction[] = [];
  for (const item of present) {
    const result = results.get(item.name);
    if (result === undefined) continue;
    const predicted: Partial<Record<Aspect, number>> = {};
    for (const aspect of aspects) {
      const judged = result.aspects[aspect];
      if (judged.mos !== null) predicted[aspect] = judged.mos;
    }
    predictions.push({ name: item.name, mos: item.mos, predicted });
  }

  const metrics: EvaluationReport['aspects'] = {};
  const notJudged: EvaluationReport['notJudged'] = {};
  for (const aspect of aspects) {
    const pairs = predictions.filter((p) => p.predicted[aspect] !== undefined && p.mos[aspect] !== undefined);
    if (pairs.length === 0) {
      const reason = [...results.values()].map((r) => r.aspects[aspect]).find((a) => a.mos === null);
      if (reason !== undefined && reason.mos === null) notJudged[aspect] = reason.reason;
      continue;
    }
    if (pairs.length < 2) continue;
    metrics[aspect] = aspectMetrics(
      pairs.map((p) => p.predicted[aspect]!),
      pairs.map((p) => p.mos[aspect]!),
    );
  }

  return {
    dataset: {
      format: dataset.format,
      labelFiles: dataset.labelFiles,
      imageDir: dataset.imageDir,
      split: options.split,
      splitScheme: dataset.split.scheme,
      seed: dataset.split.seed,
      listed: items.length,
      scored: predictions.length,
    },
    pack: scorer.pack,
    aspects: metrics,
    notJudged,
    missing,
    failed,
    predictions,
    createdAt: new Date().toISOString(),
  };
}

function fixed(value: number | null, digits = 4): string {
  return value === null || Number.isNaN(value) ? '—' : value.toFixed(digits);
}

/** The metrics as a plain-text table, one row per aspect. */
export function formatMetricsTable(aspects: Partial<Record<Aspect, Omit<AspectMetrics, 'logistic'>>>): string {
  const header = ['aspect', 'n', 'SRCC', 'PLCC', 'PLCC(fit)', 'KRCC', 'RMSE', 'RMSE(fit)'];
  const rows = Object.entries(aspects).map(([aspect, m]) => [
    aspect,
    String(m.n),
    fixed(m.srcc),
    fixed(m.plcc),
    fixed(m.plccLogistic),
    fixed(m.krcc),
    fixed(m.rmse),
    fixed(m.rmseLogistic),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(header), ...rows.map(line)].join('\n');
}
