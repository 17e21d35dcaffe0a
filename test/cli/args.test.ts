// The argv handling every command shares: strict parsing, --help, the one-line usage error, and
// the option checks that collect every problem.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commandLine, OptionChecks } from '../../src/cli/args.js';
import { captureOutput, type CapturedOutput } from './run-cli.js';

const HELP = 'Usage: agiqa demo <file>... [--count N] [--loud]';
const options = { count: { type: 'string' }, loud: { type: 'boolean', default: false }, tag: { type: 'string', multiple: true } } as const;
const catalog = commandLine({ name: 'demo', help: HELP, options, positionals: true });
const noPositionals = commandLine({ name: 'demo', help: HELP, options });

let out: CapturedOutput;
beforeEach(() => {
  out = captureOutput();
});
afterEach(() => {
  out.restore();
});

describe('commandLine().parse', () => {
  it('returns the values and positionals of good arguments and prints nothing', () => {
    const parsed = catalog.parse(['a.png', '--count', '3', '--tag', 'x', '--tag=y', 'b.png']);
    expect(parsed).toEqual({ values: { count: '3', loud: false, help: false, tag: ['x', 'y'] }, positionals: ['a.png', 'b.png'] });
    expect(out.stdout + out.stderr).toBe('');
  });

  it('prints the help on stdout and returns 0 for --help and -h', () => {
    expect(catalog.parse(['--help'])).toBe(0);
    expect(noPositionals.parse(['-h'])).toBe(0);
    expect(out.stdout).toBe(`${HELP}\n${HELP}\n`);
    expect(out.stderr).toBe('');
  });

  it('answers an unknown option with the catalog line, exit 2, even beside --help', () => {
    expect(catalog.parse(['--bogus', '--help'])).toBe(2);
    // the middle is node's own wording, which may change between versions
    expect(out.stderr).toMatch(/^agiqa: Unknown option '--bogus'\. [^\n]* Run `agiqa demo --help`\. \[AGQ_ERR_USAGE\]\n$/);
    expect(out.stdout).toBe('');
  });

  it('answers a missing value and a refused positional with one line each', () => {
    expect(noPositionals.parse(['--count'])).toBe(2);
    expect(out.stderr).toBe("agiqa: Option '--count <value>' argument missing. Run `agiqa demo --help`. [AGQ_ERR_USAGE]\n");
    out.stderr = '';
    expect(noPositionals.parse(['a.png'])).toBe(2);
    expect(out.stderr).toMatch(/^agiqa: Unexpected argument 'a\.png'\. This command does not take positional arguments[^\n]*\[AGQ_ERR_USAGE\]\n$/);
  });
});

describe('commandLine().usageError', () => {
  it('prints a problem as one line naming the help and returns 2', () => {
    expect(catalog.usageError('--count is required')).toBe(2);
    expect(out.stderr).toBe('agiqa: --count is required. Run `agiqa demo --help`. [AGQ_ERR_USAGE]\n');
  });
});

describe('OptionChecks', () => {
  it('returns what was given and records nothing for good values or absent options', () => {
    const check = new OptionChecks();
    check.required('x', '--dataset');
    expect(check.integer('-7', '--seed')).toBe(-7);
    expect(check.integer('64', '--workers', { min: 1, max: 64 })).toBe(64);
    expect(check.integer(undefined, '--workers', { min: 1, max: 64 })).toBeUndefined();
    expect(check.oneOf('val', '--split', ['train', 'val'])).toBe('val');
    expect(check.oneOf(undefined, '--format', ['csv'])).toBeUndefined();
    expect(check.listOf('mlp, xlstm', '--kinds', ['xlstm', 'mlp'])).toEqual(['mlp', 'xlstm']);
    expect(check.listOf(undefined, '--aspect', ['quality'])).toBeUndefined();
    expect(check.problems).toEqual([]);
  });

  it('records every bad value, in order, naming the flag, what was expected and what was received', () => {
    const check = new OptionChecks();
    check.required(undefined, '--dataset');
    check.integer('1.5', '--seed');
    check.integer('0', '--epochs', { min: 1, max: 1000 });
    check.integer('many', '--workers', { min: 1, max: 64 });
    check.oneOf('dev', '--split', ['all', 'train', 'val', 'test']);
    check.listOf('quality,beauty,style', '--aspect', ['quality', 'correspondence']);
    check.listOf('lstm', '--kinds', ['xlstm', 'mlp'], 'xlstm and/or mlp');
    expect(check.problems).toEqual([
      '--dataset is required',
      'Expected an integer for --seed but received "1.5"',
      'Expected an integer from 1 to 1000 for --epochs but received "0"',
      'Expected an integer from 1 to 64 for --workers but received "many"',
      'Expected one of all, train, val, test for --split but received "dev"',
      'Expected quality, correspondence for --aspect but received "beauty, style"',
      'Expected xlstm and/or mlp for --kinds but received "lstm"',
    ]);
  });
});
