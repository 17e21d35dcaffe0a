// What every command does with its argv before its own work: strict parsing against an options table,
// `-h/--help`, and one way to say a usage error (exit 2); plus checks for option values that collect
// every problem so a user fixes them in one run.
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { agiqaError } from '../errors/index.js';
import { EXIT, reportFatal } from './main.js';

type ParseArgsOptionsConfig = NonNullable<ParseArgsConfig['options']>;

const HELP_OPTION = { help: { type: 'boolean', short: 'h', default: false } } as const;

type ParsedArgv<O extends ParseArgsOptionsConfig> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O & typeof HELP_OPTION; strict: true; allowPositionals: boolean }>
>;

export interface CommandSpec<O extends ParseArgsOptionsConfig> {
  /** The command word, as in `agiqa <name>`. */
  name: string;
  /** What `--help` prints on stdout. */
  help: string;
  /** The command's options; `-h/--help` is added. */
  options: O;
  /** Whether the command takes words besides options (an action, files); refused by default. */
  positionals?: boolean;
}

export interface CommandLine<O extends ParseArgsOptionsConfig> {
  /**
   * Parses argv. A number is the exit code to return at once: the help was printed (0), or the
   * arguments could not be parsed and the usage error was printed (2). Never throws.
   */
  parse(argv: string[]): ParsedArgv<O> | number;
  /** Prints `problem` as this command's usage error and returns the usage exit code (2). */
  usageError(problem: string): number;
}

/** The argv handling of one command; see {@link CommandSpec}. */
export function commandLine<O extends ParseArgsOptionsConfig>(spec: CommandSpec<O>): CommandLine<O> {
  const usageError = (problem: string): number => {
    return reportFatal(agiqaError('AGQ_ERR_USAGE', { problem: `${problem}. Run \`agiqa ${spec.name} --help\`.` }));
  };
  const parse = (argv: string[]): ParsedArgv<O> | number => {
    let parsed: ParsedArgv<O>;
    try {
      parsed = parseArgs({ args: argv, options: { ...spec.options, ...HELP_OPTION }, strict: true, allowPositionals: spec.positionals ?? false });
    } catch (error) {
      return usageError(error instanceof Error ? error.message : String(error));
    }
    // TypeScript cannot see `help` through the generic options table; parseArgs always sets it (default false).
    if ((parsed.values as { help: boolean }).help) {
      process.stdout.write(`${spec.help}\n`);
      return EXIT.ok;
    }
    return parsed;
  };
  return { parse, usageError };
}

/**
 * Checks option values and keeps every problem, so a user sees them all at once. Each check returns
 * the value it read (undefined when the option was not given); once `problems` is not empty the
 * command must stop, because a value that failed its check is returned as read.
 */
export class OptionChecks {
  readonly problems: string[] = [];

  /** Records that `flag` is missing when `value` is undefined. */
  required(value: string | undefined, flag: string): void {
    if (value === undefined) this.problems.push(`${flag} is required`);
  }

  /** An integer, within `range` when one is given. */
  integer(value: string | undefined, flag: string, range?: { min: number; max: number }): number | undefined {
    if (value === undefined) return undefined;
    const n = Number(value);
    if (range === undefined) {
      if (!Number.isInteger(n)) this.problems.push(`Expected an integer for ${flag} but received "${value}"`);
    } else if (!(Number.isInteger(n) && n >= range.min && n <= range.max)) {
      this.problems.push(`Expected an integer from ${range.min} to ${range.max} for ${flag} but received "${value}"`);
    }
    return n;
  }

  /** One of `choices`. */
  oneOf<T extends string>(value: string, flag: string, choices: readonly T[]): T;
  oneOf<T extends string>(value: string | undefined, flag: string, choices: readonly T[]): T | undefined;
  oneOf<T extends string>(value: string | undefined, flag: string, choices: readonly T[]): T | undefined {
    if (value !== undefined && !choices.includes(value as T)) {
      this.problems.push(`Expected one of ${choices.join(', ')} for ${flag} but received "${value}"`);
    }
    return value as T | undefined;
  }

  /**
   * A comma-separated list, each item one of `choices`; `expected` says what may be given (default:
   * the choices, comma-separated).
   */
  listOf<T extends string>(value: string, flag: string, choices: readonly T[], expected?: string): T[];
  listOf<T extends string>(value: string | undefined, flag: string, choices: readonly T[], expected?: string): T[] | undefined;
  listOf<T extends string>(value: string | undefined, flag: string, choices: readonly T[], expected = choices.join(', ')): T[] | undefined {
    if (value === undefined) return undefined;
    const items = value.split(',').map((item) => item.trim());
    const bad = items.filter((item) => !choices.includes(item as T));
    if (bad.length > 0) this.problems.push(`Expected ${expected} for ${flag} but received "${bad.join(', ')}"`);
    return items as T[];
  }
}
