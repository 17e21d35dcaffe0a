// `agiqa distill --teacher <judge pack> --images DIR|CSV --out models/<new-pack>`: the judge labels the
// images (resumable: answers are kept in <out>/teacher-labels.jsonl), then a fast pack's M3 predictor
// learns them; with human ratings in the CSV, the teacher's own agreement with them is reported.
import { resolve } from 'node:path';
import cliProgress from 'cli-progress';
import { DATASET_FORMATS, DEFAULT_SPLIT_SEED } from '../../evaluation/datasets.js';
import { distill, LABEL_FILE, type DistillResult } from '../../evaluation/distill.js';
import { formatMetricsTable } from '../../evaluation/evaluate.js';
import { judgeTeacher } from '../../evaluation/judge-teacher.js';
import { DEFAULT_PACK, loadPack, type LoadedPack } from '../../model/packs.js';
import { commandLine, OptionChecks } from '../args.js';
import { EXIT } from '../main.js';
import { labelProgressReporter, writeTrainReport } from '../training-report.js';

const HELP = `Usage: agiqa distill --teacher <judge pack> --images <dir|file.csv> --out models/<new-pack> [options]

Distils a judge (a local multimodal model server, added with agiqa models add --judge-url) into a
fast pack: the judge rates every image (two rounds per aspect: description, then the level word's
probabilities → MOS), then the fast pack's M3 predictor learns those labels (as agiqa train does;
needs Python with torch, onnx and numpy) and a new pack is written that names the teacher model.
Answers are kept in <out>/${LABEL_FILE} by image hash, prompt, aspect, model and round texts: run the
same command again after a stop and only the missing ones are asked.

Options:
  --teacher NAME|DIR  the judge pack (by name, or a folder holding pack.json)
  --images PATH       a folder of images (prompts read from their metadata), or a CSV:
                      image[,prompt][,mos | mos_quality,mos_correspondence,mos_authenticity]
                      or a published label file (--format); MOS columns are human ratings, used
                      only to measure the teacher, never to train
  --format F          agiqa-3k | aigciqa2023 | aigiqa-20k | csv (for --images; default: detected)
  --image-dir DIR     where a label file's images are, if not next to it
  --pack NAME|DIR     the fast pack that learns (default: ${DEFAULT_PACK}); lite learns quality, a
                      CLIP-family pack all three aspects
  --out DIR           the new pack's folder; its name becomes the pack name
  --concurrency N     images asked at once (default: the judge pack's server concurrency)
  --label-only        stop after labelling (the answers stay for a later run)
  --seed N            the student's split and training seed (default ${DEFAULT_SPLIT_SEED})
  --epochs N          at most N epochs (default 60)
  --kinds LIST        xlstm,mlp (default both)
  --workers N         feature-extraction threads (default 2)
  -h, --help          show this help

Exit codes: 0 done, 2 usage error, 3 some images could not be labelled (the rest were used),
130 interrupted (answers so far kept), 1 anything else.`;

const cli = commandLine({
  name: 'distill',
  help: HELP,
  options: {
    teacher: { type: 'string' },
    images: { type: 'string' },
    format: { type: 'string' },
    'image-dir': { type: 'string' },
    pack: { type: 'string' },
    out: { type: 'string' },
    concurrency: { type: 'string' },
    'label-only': { type: 'boolean' },
    seed: { type: 'string' },
    epochs: { type: 'string' },
    kinds: { type: 'string' },
    workers: { type: 'string' },
    'trainer-arg': { type: 'string', multiple: true },
  },
});

const KINDS = ['xlstm', 'mlp'] as const;

async function packOf(value: string): Promise<LoadedPack> {
  return /[\\/]/.test(value) ? loadPack(value, { packDir: resolve(value) }) : loadPack(value);
}

function writeTeacherReport(result: DistillResult, model: string): void {
  const out = process.stdout;
  out.write(`labels   ${result.labelled} image(s) labelled · ${result.asked} answer(s) asked · ${result.cached} from ${result.labelFile}\n`);
  if (result.teacherVsHuman !== null) {
    out.write(`\nteacher ${model} against the human ratings — every rated image\n${formatMetricsTable(result.teacherVsHuman.all)}\n`);
    out.write(`\nteacher against the human ratings — the student's test split\n${formatMetricsTable(result.teacherVsHuman.test)}\n\n`);
  }
}

export async function run(argv: string[]): Promise<number> {
  const parsed = cli.parse(argv);
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  const check = new OptionChecks();
  check.required(values.teacher, '--teacher');
  check.required(values.images, '--images');
  check.required(values.out, '--out');
  const format = check.oneOf(values.format, '--format', DATASET_FORMATS);
  const seed = check.integer(values.seed, '--seed') ?? DEFAULT_SPLIT_SEED;
  const epochs = check.integer(values.epochs, '--epochs', { min: 1, max: 1000 });
  const workers = check.integer(values.workers, '--workers', { min: 1, max: 64 });
  const concurrency = check.integer(values.concurrency, '--concurrency', { min: 1, max: 64 });
  const kinds = check.listOf(values.kinds ?? KINDS.join(','), '--kinds', KINDS, 'xlstm and/or mlp');
  if (check.problems.length > 0) return cli.usageError(check.problems.join('; '));

  const teacherPack = await packOf(values.teacher!);
  const teacher = judgeTeacher(teacherPack);
  const base = await packOf(values.pack ?? DEFAULT_PACK);
  const tty = process.stderr.isTTY === true;
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGINT', onSignal);
  const serverConcurrency = teacherPack.manifest.input.kind === 'judge' ? teacherPack.manifest.input.server.concurrency : 1;
  const extractBar = tty ? new cliProgress.SingleBar({ clearOnComplete: true, hideCursor: true, format: 'features [{bar}] {value}/{total}' }, cliProgress.Presets.shades_classic) : undefined;
  let result: DistillResult;
  try {
    result = await distill({
      teacher,
      teacherPack: { name: teacherPack.manifest.name, version: teacherPack.manifest.version },
      images: values.images!,
      format,
      imageDir: values['image-dir'],
      base,
      out: values.out!,
      seed,
      concurrency: concurrency ?? serverConcurrency,
      epochs,
      kinds,
      workers,
      trainerArgs: values['trainer-arg'],
      labelOnly: values['label-only'] === true,
      signal: controller.signal,
      onLabel: labelProgressReporter(tty),
      onExtract: (done, total) => {
        if (extractBar === undefined) return;
        if (done === 0) extractBar.start(total, 0);
        else extractBar.update(done);
        if (done === total) extractBar.stop();
      },
      onTrainerLine: (line) => {
        if (!tty || / epoch /.test(line)) process.stderr.write(`${line}\n`);
      },
    });
  } catch (error) {
    if (controller.signal.aborted) {
      process.stderr.write(`agiqa: interrupted; the answers so far are kept in ${resolve(values.out!, LABEL_FILE)} — run the same command to go on\n`);
      return 130;
    }
    throw error;
  } finally {
    process.off('SIGINT', onSignal);
    await teacher.close();
  }

  writeTeacherReport(result, teacher.model);
  if (result.train !== null) writeTrainReport(result.train, base.manifest.name, seed);
  for (const failure of result.failed.slice(0, 10)) process.stderr.write(`agiqa: not labelled: ${failure.name}: ${failure.reason}\n`);
  if (result.failed.length > 10) process.stderr.write(`agiqa: … and ${result.failed.length - 10} more not labelled\n`);
  return result.failed.length > 0 ? EXIT.someInputsUnreadable : EXIT.ok;
}
