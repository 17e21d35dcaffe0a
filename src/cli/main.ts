// The `agiqa` command line: parses the command word and hands over to one module per command.
// Exit codes: 0 ok, 2 usage error, 3 some inputs unreadable, 1 anything else.
import { isAgiqaError } from '../errors/index.js';

export type CommandRun = (argv: string[]) => Promise<number>;

interface CommandEntry {
  summary: string;
  load: () => Promise<{ run: CommandRun }>;
}

const commands: Record<string, CommandEntry> = {
  score: { summary: 'score image files or directories', load: () => import('./commands/score.js') },
  serve: { summary: 'run the scoring server (HTTP API + event stream)', load: () => import('./commands/serve.js') },
  config: { summary: 'print the effective configuration (`agiqa config print`)', load: () => import('./commands/config.js') },
  eval: { summary: 'measure a pack on a rated dataset (SRCC, PLCC, KRCC, RMSE)', load: () => import('./commands/eval.js') },
  train: { summary: 'train a pack\'s M3 predictor on a rated dataset', load: () => import('./commands/train.js') },
  distill: { summary: 'label images with a judge and train a fast pack on the labels', load: () => import('./commands/distill.js') },
  models: { summary: 'list, pull, verify or remove model packs (`agiqa models list`)', load: () => import('./commands/models.js') },
  plugins: { summary: 'install the ComfyUI nodes or the A1111/Forge extension (`agiqa plugins install`)', load: () => import('./commands/plugins.js') },
};

export const EXIT = { ok: 0, failure: 1, usage: 2, someInputsUnreadable: 3 } as const;

function usage(): string {
  const lines = Object.entries(commands).map(([name, entry]) => `  ${name.padEnd(8)} ${entry.summary}`);
  return ['Usage: agiqa <command> [options]', '', 'Commands:', ...lines, '', 'Run `agiqa <command> --help` for its options.'].join('\n');
}

/** Runs the CLI and returns the process exit code; never throws. */
export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(`${usage()}\n`);
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version') {
    const { readFile } = await import('node:fs/promises');
    const pkg = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    process.stdout.write(`${pkg.version}\n`);
    return EXIT.ok;
  }
  const entry = commands[name];
  if (entry === undefined) {
    process.stderr.write(`agiqa: unknown command "${name}"\n${usage()}\n`);
    return EXIT.usage;
  }
  try {
    const command = await entry.load();
    return await command.run(rest);
  } catch (error) {
    return reportFatal(error);
  }
}

/** One readable line on stderr for an error that escaped a command; a stack only with AGIQA_DEBUG=1. */
export function reportFatal(error: unknown): number {
  if (isAgiqaError(error)) {
    // Usage errors already say what to run; other fatal errors also carry the catalog's remedy.
    const usage = error.code === 'AGQ_ERR_USAGE' || error.code === 'AGQ_ERR_INVALID_INPUT';
    const remedy = usage ? '' : ` — ${error.howToSolve}`;
    process.stderr.write(`agiqa: ${error.message}${remedy} [${error.code}]\n`);
    return usage ? EXIT.usage : EXIT.failure;
  }
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`agiqa: unexpected error: ${message}\n`);
  if (process.env.AGIQA_DEBUG === '1' && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  return EXIT.failure;
}
