// `agiqa config print`: the effective configuration (defaults < file < env < flags) as JSON, token masked.
import { parseArgs } from 'node:util';
import { loadConfig, maskConfig } from '../../config/index.js';

const USAGE = `Usage: agiqa config print [--config FILE]

Prints the effective configuration as JSON (defaults < config file < AGIQA_* environment), token masked.`;

export async function run(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { config: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: true });
  } catch (error) {
    process.stderr.write(`agiqa config: ${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`);
    return 2;
  }
  if (parsed.values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const [action, ...extra] = parsed.positionals;
  if (action !== 'print' || extra.length > 0) {
    process.stderr.write(`agiqa config: expected "print"${action === undefined ? '' : `, received "${parsed.positionals.join(' ')}"`}\n${USAGE}\n`);
    return 2;
  }
  const { config, file } = loadConfig({ flags: { config: parsed.values.config } });
  process.stdout.write(`${JSON.stringify({ file, config: maskConfig(config) }, null, 2)}\n`);
  return 0;
}
