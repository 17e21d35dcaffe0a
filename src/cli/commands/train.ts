// `agiqa train --dataset … --pack <base> --out models/<new-pack>`: trains the M3 predictor on a rated
// dataset with the base pack's encoder and writes a new pack that records data, split, seed, metrics
// and the ablation (xLSTM vs MLP vs the pack's own head) in its pack.json.
import { resolve } from 'node:path';
import cliProgress from 'cli-progress';
import { DATASET_FORMATS, DEFAULT_SPLIT_SEED, readDataset } from '../../evaluation/datasets.js';
import { withSplitFiles } from '../../evaluation/split-file.js';
import type { FeatureSource } from '../../evaluation/training-features.js';
import { judgeFeatureSource } from '../../evaluation/training-features-judge.js';
import { trainPredictor } from '../../evaluation/train-predictor.js';
import { DEFAULT_PACK, loadPack } from '../../model/packs.js';
import { commandLine, OptionChecks } from '../args.js';
import { EXIT } from '../main.js';
import { labelProgressReporter, writeTrainReport } from '../training-report.js';

const HELP = `Usage: agiqa train --dataset <dir|file.csv> --out models/<new-pack> [options]

Trains the M3 predictor (xLSTM over [image tokens; one token per aspect round]) on a rated dataset,
using the base pack's encoder, and writes a new pack. Base packs: lite (quality round, features cached
under $AGIQA_HOME/cache), a CLIP-family pack (three zero-shot rounds, the prompt from the dataset) or
a judge pack (its rounds through the model server, image tokens from --image-pack).
The held-out test split is measured with the exported ONNX; the MLP baseline and the pack's own head
are measured on the same split (the ablation), and the best on the validation split is shipped.
Needs Python with torch, onnx and numpy (pip install torch onnx numpy; or apt-get install
python3-torch python3-onnx); set AGIQA_PYTHON to choose the interpreter (default /usr/bin/python3).

Options:
  --dataset PATH   dataset folder or CSV (formats as for agiqa eval)
  --format F       agiqa-3k | aigciqa2023 | aigiqa-20k | csv (default: detected)
  --images DIR     folder holding the images, if not next to the label file
  --pack NAME|DIR  base pack whose encoder makes the features (default: lite): lite, a
                   CLIP-family pack, or a judge pack (its answers cached under $AGIQA_HOME/cache)
  --image-pack NAME|DIR
                   with a judge pack: the fast pack whose image tokens join the judge's rounds
                   (default: lite; a CLIP-family pack also embeds the judge's descriptions);
                   scoring the new pack loads it by name, so install it under $AGIQA_HOME/models
  --out DIR        the new pack's folder; its name becomes the pack name
  --split-file [SPLIT=]FILE
                   the split a paper published (repeatable): M3-AGIQA's data_processed lists
                   (JSON) or the same as CSV with a name column; the split comes from the file
                   name (train/val/test) or the SPLIT= prefix; without a val list 10 % of train
                   is held out for validation; images in no list are left out
  --seed N         split and training seed (default ${DEFAULT_SPLIT_SEED})
  --epochs N       at most N epochs (early stopping on the validation split; default 60)
  --kinds LIST     xlstm,mlp (default both: the MLP is the ablation baseline)
  --ship C         xlstm | mlp | head: ship this candidate whatever the ablation says
                   (default: the best mean SRCC on the validation split)
  --workers N      feature-extraction threads (default 2)
  -h, --help       show this help`;

const cli = commandLine({
  name: 'train',
  help: HELP,
  options: {
    dataset: { type: 'string' },
    format: { type: 'string' },
    images: { type: 'string' },
    pack: { type: 'string' },
    'image-pack': { type: 'string' },
    out: { type: 'string' },
    seed: { type: 'string' },
    'split-file': { type: 'string', multiple: true },
    epochs: { type: 'string' },
    kinds: { type: 'string' },
    ship: { type: 'string' },
    workers: { type: 'string' },
    'trainer-arg': { type: 'string', multiple: true },
  },
});

const KINDS = ['xlstm', 'mlp'] as const;

export async function run(argv: string[]): Promise<number> {
  const parsed = cli.parse(argv);
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  const check = new OptionChecks();
  check.required(values.dataset, '--dataset');
  check.required(values.out, '--out');
  const format = check.oneOf(values.format, '--format', DATASET_FORMATS);
  const seed = check.integer(values.seed, '--seed') ?? DEFAULT_SPLIT_SEED;
  const epochs = check.integer(values.epochs, '--epochs', { min: 1, max: 1000 });
  const workers = check.integer(values.workers, '--workers', { min: 1, max: 64 });
  const kinds = check.listOf(values.kinds ?? KINDS.join(','), '--kinds', KINDS, 'xlstm and/or mlp');
  const ship = check.oneOf(values.ship, '--ship', ['xlstm', 'mlp', 'head'] as const);
  if (check.problems.length > 0) return cli.usageError(check.problems.join('; '));

  let dataset = await readDataset(values.dataset!, { format, images: values.images, seed });
  if (values['split-file'] !== undefined) {
    const applied = await withSplitFiles(dataset, values['split-file'], seed);
    dataset = applied.dataset;
    for (const file of applied.report.files) process.stderr.write(`split    ${file.split}: ${file.matched} of ${file.listed} listed images in the dataset (${file.path})\n`);
    if (applied.report.unlisted > 0) process.stderr.write(`split    ${applied.report.unlisted} dataset image(s) in no split file, left out\n`);
  }
  const packIsDir = values.pack !== undefined && /[\\/]/.test(values.pack);
  const base = packIsDir ? await loadPack(values.pack!, { packDir: resolve(values.pack!) }) : await loadPack(values.pack ?? DEFAULT_PACK);
  let source: FeatureSource | undefined;
  if (base.manifest.input.kind === 'judge') {
    const image = values['image-pack'] ?? DEFAULT_PACK;
    const imagePack = /[\\/]/.test(image) ? await loadPack(image, { packDir: resolve(image) }) : await loadPack(image);
    source = judgeFeatureSource(base, imagePack, { onLabel: labelProgressReporter(process.stderr.isTTY === true) });
  } else if (values['image-pack'] !== undefined) {
    return cli.usageError(`--image-pack goes with a judge pack; ${base.manifest.name} makes its own image tokens`);
  }
  const tty = process.stderr.isTTY === true;
  const bar = tty ? new cliProgress.SingleBar({ clearOnComplete: true, hideCursor: true, format: 'features [{bar}] {value}/{total}' }, cliProgress.Presets.shades_classic) : undefined;
  const result = await trainPredictor({
    dataset,
    base,
    out: values.out!,
    seed,
    epochs,
    kinds,
    ship,
    source,
    workers,
    trainerArgs: values['trainer-arg'],
    onExtract: (done, total) => {
      if (bar === undefined) return;
      if (done === 0) bar.start(total, 0);
      else bar.update(done);
      if (done === total) bar.stop();
    },
    onTrainerLine: (line) => {
      // one line per epoch is plenty on a terminal; in logs keep every line
      if (!tty || / epoch /.test(line)) process.stderr.write(`${line}\n`);
    },
  });

  writeTrainReport(result, base.manifest.name, seed);
  return EXIT.ok;
}
