// `agiqa config print`: the effective configuration (defaults < file < env < flags) as JSON, token masked.
import { loadConfig, maskConfig } from '../../config/index.js';
import { commandLine } from '../args.js';

const USAGE = `Usage: agiqa config print [--config FILE]

Prints the effective configuration as JSON (defaults < config file < AGIQA_* environment), token masked.`;

const cli = commandLine({ name: 'config', help: USAGE, options: { config: { type: 'string' } }, positionals: true });

export async function run(argv: string[]): Promise<number> {
  const parsed = cli.parse(argv);
  if (typeof parsed === 'number') return parsed;
  const [action, ...extra] = parsed.positionals;
  if (action !== 'print' || extra.length > 0) {
    return cli.usageError(`expected "print"${action === undefined ? '' : `, received "${parsed.positionals.join(' ')}"`}`);
  }
  const { config, file } = loadConfig({ flags: { config: parsed.values.config } });
  process.stdout.write(`${JSON.stringify({ file, config: maskConfig(config) }, null, 2)}\n`);
  return 0;
}
