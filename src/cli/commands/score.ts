// `agiqa score <file|dir>... [--prompt TEXT] [--json] [--pack NAME] [--server URL] [--boxes DIR]`: scores images.
// A table on a terminal, JSON lines with --json; unreadable inputs are reported one line each and
// the rest are still scored (exit 3).
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import cliProgress from 'cli-progress';
import { isAgiqaError, type AgiqaError } from '../../errors/index.js';
import { listImageFiles, readImageBytes } from '../../image/index.js';
import { createScorer, type ScoreResult, type Scorer } from '../../scoring/index.js';
import { commandLine, OptionChecks } from '../args.js';
import { writeBoxes } from '../boxes-output.js';
import { EXIT } from '../main.js';
import { formatScoreTable } from '../score-table.js';
import { scoreFilesRemotely } from '../score-remote.js';

const HELP = `Usage: agiqa score <file|dir>... [options]

Scores images on this machine with a model pack (default: the embedded "lite" pack).
Directories are searched recursively for png, jpg, jpeg, webp, gif, tif, tiff, avif.

Options:
  --prompt TEXT   the prompt that made the images (default: the prompt embedded in each file)
  --json          print one JSON result per line instead of a table
  --pack NAME|DIR model pack: a name, or a folder holding pack.json (default: lite; see docs/packs.md)
  --workers N     worker threads (default: one per core, ${availableParallelism()} here; never more than files)
  --server URL    send the images to a running \`agiqa serve\` (e.g. http://127.0.0.1:8420) instead:
                  they are stored there and appear live on its dashboard (token: AGIQA_TOKEN)
  --boxes DIR     write the object detector's boxes per image to DIR (<image>.boxes.json and .png;
                  local scoring only)
  -h, --help      show this help

Exit codes: 0 all scored, 2 usage error, 3 some inputs could not be read (the rest were scored).`;

interface Outcome {
  file: string;
  result?: ScoreResult;
  error?: AgiqaError;
}

const cli = commandLine({
  name: 'score',
  help: HELP,
  options: {
    prompt: { type: 'string' },
    json: { type: 'boolean', default: false },
    pack: { type: 'string' },
    workers: { type: 'string' },
    server: { type: 'string' },
    boxes: { type: 'string' },
  },
  positionals: true,
});

export async function run(argv: string[]): Promise<number> {
  const parsed = cli.parse(argv);
  if (typeof parsed === 'number') return parsed;
  const { values, positionals } = parsed;
  if (positionals.length === 0) return cli.usageError('agiqa score needs at least one image file or directory');
  const check = new OptionChecks();
  const workers = check.integer(values.workers, '--workers', { min: 1, max: 64 });
  if (values.server !== undefined && !/^https?:\/\/[^\s]+$/.test(values.server)) check.problems.push(`--server expects a URL like http://127.0.0.1:8420, received "${values.server}"`);
  if (values.server !== undefined && values.pack !== undefined) check.problems.push('--pack and --server exclude each other: the server scores with its own pack');
  if (check.problems.length > 0) return cli.usageError(check.problems.join('; '));

  const { files, problems } = await listImageFiles(positionals);
  for (const problem of problems) printProblem(problem);
  if (files.length === 0) return EXIT.someInputsUnreadable;

  // One worker per core: each scores one image at a time on one thread, so fewer leave cores idle.
  const workerCount = workers ?? Math.min(files.length, availableParallelism());
  const outcomes: Outcome[] = [];
  if (values.server !== undefined) {
    await scoreFilesRemotely(files, { server: values.server, prompt: values.prompt, token: process.env.AGIQA_TOKEN, concurrency: workerCount }, (outcome) => {
      outcomes.push(outcome);
      if (values.json && outcome.result) process.stdout.write(`${JSON.stringify({ file: outcome.file, ...outcome.result, verdict: outcome.verdict })}\n`);
      else if (values.json && outcome.error) printProblem(outcome.error);
    });
    return report(outcomes, files, problems.length, values.json);
  }
  let boxesUnwritten = 0;
  // a value with a slash is a pack folder (e.g. one `agiqa train` or `agiqa distill` just wrote), as for eval
  const packIsDir = values.pack !== undefined && /[\\/]/.test(values.pack);
  const scorer = await createScorer({
    pack: packIsDir ? undefined : values.pack,
    packDir: packIsDir ? resolve(values.pack!) : undefined,
    workers: workerCount,
    maxQueue: Number.MAX_SAFE_INTEGER,
  });
  try {
    const showProgress = process.stderr.isTTY === true && files.length > 1;
    const bar = showProgress ? new cliProgress.SingleBar({ clearOnComplete: true, hideCursor: true }, cliProgress.Presets.shades_classic) : undefined;
    bar?.start(files.length, 0);
    await scoreAll(scorer, files, { prompt: values.prompt, detections: values.boxes !== undefined }, workerCount, async (outcome) => {
      if (values.boxes !== undefined && outcome.result) {
        await writeBoxes(values.boxes, outcome.file, outcome.result).catch((error: Error) => {
          boxesUnwritten++;
          process.stderr.write(`agiqa: cannot write the boxes of ${outcome.file}: ${error.message}\n`);
        });
      }
      outcomes.push(outcome);
      bar?.increment();
      if (values.json) {
        if (outcome.result) process.stdout.write(`${JSON.stringify({ file: outcome.file, ...outcome.result })}\n`);
        else if (outcome.error) printProblem(outcome.error);
      }
    });
    bar?.stop();
  } finally {
    await scorer.close();
  }

  return report(outcomes, files, problems.length + boxesUnwritten, values.json);
}

/** The table (unless --json) and the exit code, for local and --server scoring alike. */
function report(outcomes: Outcome[], files: string[], unreadable: number, json: boolean): number {
  if (!json) {
    for (const outcome of outcomes) if (outcome.error) printProblem(outcome.error);
    const resultByFile = new Map(outcomes.map((o) => [o.file, o.result]));
    const scored = files.flatMap((file) => {
      const result = resultByFile.get(file);
      return result ? [{ file, result }] : [];
    });
    if (scored.length > 0) process.stdout.write(`${formatScoreTable(scored, process.stdout.isTTY === true)}\n`);
  }
  const failed = unreadable + outcomes.filter((o) => o.error).length;
  return failed > 0 ? EXIT.someInputsUnreadable : EXIT.ok;
}

function printProblem(error: AgiqaError): void {
  process.stderr.write(`agiqa: ${error.message} [${error.code}]\n`);
}

// Two images per worker keep every worker busy while the next file is read; more would only hold
// encoded images in memory.
const READ_AHEAD_PER_WORKER = 2;

/** Scores files with a bounded number in flight, so a huge directory never loads all images at once. */
async function scoreAll(
  scorer: Scorer,
  files: string[],
  ask: { prompt: string | undefined; detections: boolean },
  workers: number,
  onOutcome: (o: Outcome) => Promise<void>,
): Promise<void> {
  let next = 0;
  const inFlight = workers * READ_AHEAD_PER_WORKER;
  const lane = async (): Promise<void> => {
    while (next < files.length) {
      const file = files[next++]!;
      try {
        const image = await readImageBytes(file);
        const result = await scorer.score({ image, name: file, ...ask, handOver: true });
        await onOutcome({ file, result });
      } catch (error) {
        if (!isAgiqaError(error)) throw error;
        await onOutcome({ file, error });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, files.length) }, lane));
}
