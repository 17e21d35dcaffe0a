// `agiqa eval --dataset <dir>`: scores a published IQA dataset (or the user's own ratings) with a
// pack and prints SRCC / PLCC (raw and after the logistic fit) / KRCC / RMSE per aspect; optionally
// writes the JSON report and a scatter plot. Missing images are listed and skipped (exit 3).
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import cliProgress from 'cli-progress';
import { DATASET_FORMATS, DEFAULT_SPLIT_SEED, readDataset } from '../../evaluation/datasets.js';
import { evaluateDataset, formatMetricsTable, type EvaluationReport } from '../../evaluation/evaluate.js';
import { scatterSvg } from '../../evaluation/scatter-plot.js';
import { withSplitFiles } from '../../evaluation/split-file.js';
import { svgToPng } from '../../image/index.js';
import { ASPECTS, createScorer, type Aspect } from '../../scoring/index.js';
import { commandLine, OptionChecks } from '../args.js';
import { EXIT } from '../main.js';

const HELP = `Usage: agiqa eval --dataset <dir|file.csv> [options]

Scores every image of a dataset with a model pack and measures the scores against the dataset's MOS:
SRCC, PLCC (raw and after the 5-parameter logistic fit), KRCC and RMSE, per aspect.

Options:
  --dataset PATH   the dataset folder (label file as published) or a CSV file
  --format F       agiqa-3k | aigciqa2023 | aigiqa-20k | csv (default: detected from the label file)
  --images DIR     folder holding the images (default: next to the label file, or images/, Image/allimg/)
  --aspect A       quality | correspondence | authenticity, comma-separated (default: all the dataset rates)
  --split S        all | train | val | test (default: all; use test for a pack trained with agiqa train)
  --seed N         seed of the random split (default 42, the one agiqa train uses)
  --split-file [SPLIT=]FILE
                   the split a paper published (repeatable), as for agiqa train: M3-AGIQA's
                   data_processed lists (JSON) or CSV with a name column; use with --split test
  --pack NAME|DIR  model pack: a name, or a folder holding pack.json (default: lite)
  --workers N      worker threads (default: one per core, at most 4)
  --report FILE    write the full report (metrics, fits, every prediction) as JSON
  --plot FILE      draw predicted vs. ground-truth MOS per aspect to a PNG
  -h, --help       show this help

Exit codes: 0 all listed images scored, 2 usage error, 3 some images missing or unreadable (the
metrics cover the rest), 1 anything else.`;

const SPLITS = ['all', 'train', 'val', 'test'] as const;

const cli = commandLine({
  name: 'eval',
  help: HELP,
  options: {
    dataset: { type: 'string' },
    format: { type: 'string' },
    images: { type: 'string' },
    aspect: { type: 'string' },
    split: { type: 'string', default: 'all' },
    seed: { type: 'string' },
    'split-file': { type: 'string', multiple: true },
    pack: { type: 'string' },
    workers: { type: 'string' },
    report: { type: 'string' },
    plot: { type: 'string' },
  },
});

export async function run(argv: string[]): Promise<number> {
  const parsed = cli.parse(argv);
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  // Report every bad option at once rather than one per run.
  const check = new OptionChecks();
  check.required(values.dataset, '--dataset');
  const format = check.oneOf(values.format, '--format', DATASET_FORMATS);
  const split = check.oneOf(values.split, '--split', SPLITS);
  const aspects = check.listOf(values.aspect, '--aspect', ASPECTS);
  const seed = check.integer(values.seed, '--seed');
  const workers = check.integer(values.workers, '--workers', { min: 1, max: 64 });
  if (check.problems.length > 0) return cli.usageError(check.problems.join('; '));

  let dataset = await readDataset(values.dataset!, { format, images: values.images, seed });
  if (values['split-file'] !== undefined) dataset = (await withSplitFiles(dataset, values['split-file'], seed ?? DEFAULT_SPLIT_SEED)).dataset;
  const packIsDir = values.pack !== undefined && /[\\/]/.test(values.pack);
  const scorer = await createScorer({
    pack: packIsDir ? undefined : values.pack,
    packDir: packIsDir ? resolve(values.pack!) : undefined,
    workers,
    maxQueue: Number.MAX_SAFE_INTEGER,
  });

  let report: EvaluationReport;
  try {
    const bar = process.stderr.isTTY === true ? new cliProgress.SingleBar({ clearOnComplete: true, hideCursor: true }, cliProgress.Presets.shades_classic) : undefined;
    report = await evaluateDataset(scorer, dataset, {
      split,
      aspects,
      onProgress: (done, total) => {
        if (bar === undefined) return;
        if (done === 0) bar.start(total, 0);
        else bar.update(done);
        if (done === total) bar.stop();
      },
    });
  } finally {
    await scorer.close();
  }

  const out = process.stdout;
  out.write(`dataset  ${dataset.format} · ${dataset.labelFiles.join(', ')}\n`);
  out.write(`split    ${split} (${dataset.split.scheme}; seed ${dataset.split.seed}) · ${report.dataset.scored} of ${report.dataset.listed} images scored\n`);
  out.write(`pack     ${report.pack.name} ${report.pack.version}\n\n`);
  if (Object.keys(report.aspects).length > 0) out.write(`${formatMetricsTable(report.aspects)}\n`);
  else out.write('no aspect could be measured (see below)\n');
  for (const [aspect, reason] of Object.entries(report.notJudged)) out.write(`${aspect}: ${reason}\n`);
  const fits = Object.entries(report.aspects).filter(([, m]) => m.logistic !== null);
  if (fits.length > 0) out.write(`\nlogistic fit: the better of the start points [10, 0.1, mean(MOS), 0.1, 0.1] and [max MOS, min MOS, mean(pred), std(pred)/4, 0]\n`);

  if (report.missing.length > 0) {
    const shown = report.missing.slice(0, 10).join(', ');
    process.stderr.write(`agiqa: ${report.missing.length} listed image(s) not found under ${dataset.imageDir}: ${shown}${report.missing.length > 10 ? ', …' : ''}\n`);
  }
  for (const failure of report.failed.slice(0, 10)) process.stderr.write(`agiqa: ${failure.message} [${failure.code}]\n`);
  if (report.failed.length > 10) process.stderr.write(`agiqa: … and ${report.failed.length - 10} more unreadable image(s), listed in the report\n`);

  if (values.report !== undefined) {
    await mkdir(dirname(resolve(values.report)), { recursive: true });
    await writeFile(values.report, `${JSON.stringify(report, null, 2)}\n`);
    out.write(`report   ${values.report}\n`);
  }
  if (values.plot !== undefined) {
    const panels = Object.entries(report.aspects).map(([aspect, m]) => {
      const pairs = report.predictions.filter((p) => p.predicted[aspect as Aspect] !== undefined && p.mos[aspect as Aspect] !== undefined);
      return {
        title: aspect,
        predicted: pairs.map((p) => p.predicted[aspect as Aspect]!),
        mos: pairs.map((p) => p.mos[aspect as Aspect]!),
        logistic: m.logistic?.parameters ?? null,
        caption: `n ${m.n} · SRCC ${m.srcc.toFixed(3)} · PLCC ${m.plcc.toFixed(3)}`,
      };
    });
    const svg = scatterSvg(panels, { title: `${report.pack.name} on ${dataset.format} (${split})` });
    await mkdir(dirname(resolve(values.plot)), { recursive: true });
    await writeFile(values.plot, await svgToPng(svg));
    out.write(`plot     ${values.plot}\n`);
  }
  return report.missing.length + report.failed.length > 0 ? EXIT.someInputsUnreadable : EXIT.ok;
}
