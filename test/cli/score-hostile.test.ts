// `agiqa score` on hostile inputs (issue 12), as a user runs it: the built CLI in a child process, each
// case within a stated budget — a wall-clock bound far above a normal run (these are bounds, not
// timings: the old code needed hours or forever) and a peak RSS within a margin of a plain image's,
// measured in the same run — and with a coded answer: a score with the prompt and why it was not read,
// or one `[AGQ_ERR_…]` line.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scoreResultSchema, type ScoreResult } from '../../src/scoring/score-result.js';
import { hostilePngs } from '../fixtures/hostile/hostile-inputs.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin/agiqa.js');
const REPORT_RSS = new URL('../fixtures/hostile/report-max-rss.mjs', import.meta.url).href;

/** Wall-clock bound of one `agiqa score` run: a normal run takes 2–8 s on a loaded 2-core machine. */
const WALL_BUDGET_MS = 30_000;
/** Peak RSS allowed above the same CLI scoring a plain image. */
const RSS_MARGIN_KIB = 192 * 1024;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
  maxRssKib: number;
}

let dir: string;
let baselineRssKib = 0;

async function agiqaScore(file: string): Promise<Run> {
  const rssFile = join(dir, `rss-${Math.random().toString(36).slice(2)}`);
  const started = performance.now();
  const run = await new Promise<Omit<Run, 'ms' | 'maxRssKib'>>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', REPORT_RSS, BIN, 'score', '--json', file], {
      cwd: dir,
      env: { ...process.env, AGIQA_HOME: join(dir, '.agiqa'), AGIQA_MAX_RSS_FILE: rssFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    // A hang must fail the case, not the whole run.
    const timer = setTimeout(() => child.kill('SIGKILL'), WALL_BUDGET_MS * 2);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
  const ms = performance.now() - started;
  const maxRssKib = Number(await readFile(rssFile, 'utf8').catch(() => 'NaN'));
  return { ...run, ms, maxRssKib };
}

function scored(run: Run): ScoreResult {
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  const { file: _file, ...result } = JSON.parse(run.stdout.trim()) as Record<string, unknown>;
  return scoreResultSchema.parse(result);
}

function promptNotRead(result: ScoreResult): string | undefined {
  return result.findings.find((f) => f.code === 'prompt-not-read')?.text;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'agiqa-score-hostile-'));
  for (const [name, bytes] of Object.entries(await hostilePngs())) await writeFile(join(dir, name), bytes);
  execFileSync('mkfifo', [join(dir, 'fifo.png')]);
  const baseline = await agiqaScore(join(ROOT, 'examples', 'coffee.png'));
  expect(baseline.code).toBe(0);
  baselineRssKib = baseline.maxRssKib;
}, 120_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

type Check = (run: Run) => void;

const CASES: [name: string, file: string, check: Check][] = [
  // The text doubles per level (2^40 characters) and an unmemoised walk entered 2^40 nodes.
  ['a concat diamond 40 deep', 'diamond-concat-40.png', (run) => {
    const result = scored(run);
    expect(result.prompt).toEqual({ text: null, source: 'none' });
    expect(promptNotRead(result)).toMatch(/^embedded prompt not read: the ComfyUI graph's prompt text is longer than 1048576 characters$/);
  }],
  ['a text-switch diamond 60 deep', 'diamond-switch-60.png', (run) => {
    expect(scored(run).prompt).toEqual({ text: null, source: 'none' });
  }],
  ['a conditioning diamond 60 deep', 'diamond-conditioning-60.png', (run) => {
    expect(scored(run).prompt).toEqual({ text: 'a lighthouse', source: 'embedded' });
  }],
  ['A1111 parameters of 60 k characters', 'parameters-60k.png', (run) => {
    expect(scored(run).prompt).toEqual({ text: 'a lighthouse at dusk', source: 'embedded' });
  }],
  ['A1111 parameters over the 256 Ki-character budget', 'parameters-300k.png', (run) => {
    const result = scored(run);
    expect(result.prompt).toEqual({ text: null, source: 'none' });
    expect(promptNotRead(result)).toMatch(/the A1111 parameters text is \d+ characters, more than the 262144 read/);
  }],
  ['40 zTXt chunks of 1 MiB under other keywords', 'ztxt-40-junk-chunks.png', (run) => {
    expect(scored(run).prompt).toEqual({ text: 'a red fox', source: 'embedded' });
  }],
  ['40 repeats of the parameters chunk', 'ztxt-40-prompt-repeats.png', (run) => {
    expect(scored(run).prompt).toEqual({ text: 'a red fox', source: 'embedded' });
  }],
  ['a zTXt parameters bomb of 32 MiB', 'ztxt-bomb-32m.png', (run) => {
    const result = scored(run);
    expect(result.prompt).toEqual({ text: null, source: 'none' });
    expect(promptNotRead(result)).toMatch(/metadata text is larger than the 4194304 bytes read \(at chunk "parameters"\)/);
  }],
  // 4.8 GB of text once compressed into 4.9 MB: libvips refused it at its chunk limit (CORRUPT);
  // now the decoder never sees text chunks and the reader inflates none of these.
  ['300 zTXt chunks of 16 MiB under other keywords', 'ztxt-300-chunks.png', (run) => {
    expect(scored(run).prompt).toEqual({ text: 'a red fox', source: 'embedded' });
  }],
  ['JSON nested 500 000 deep in prompt and workflow', 'deep-json.png', (run) => {
    const result = scored(run);
    expect(result.prompt).toEqual({ text: null, source: 'none' });
    expect(promptNotRead(result)).toBe('embedded prompt not read: the ComfyUI prompt JSON nests deeper than 64 levels');
  }],
  ['a FIFO named like an image (no writer ever comes)', 'fifo.png', (run) => {
    expect(run.code).toBe(3);
    expect(run.stdout).toBe('');
    expect(run.stderr.trim().split('\n')).toEqual([
      `agiqa: ${join(dir, 'fifo.png')}: not a regular file (it is a FIFO (named pipe)); only regular image files are read [AGQ_ERR_IMAGE_NOT_A_FILE]`,
    ]);
  }],
  ['InvokeAI 1.x sd-metadata images[] and Dream', 'invokeai-1x.png', (run) => {
    expect(scored(run).prompt).toEqual({ text: 'an old map', source: 'embedded' });
  }],
  ['InvokeAI 1.x Dream line alone', 'invokeai-1x-dream-only.png', (run) => {
    expect(scored(run).prompt).toEqual({ text: 'a paper boat', source: 'embedded' });
  }],
];

describe('agiqa score on hostile inputs', () => {
  it.each(CASES)(`%s: answered within ${WALL_BUDGET_MS / 1000} s and ${RSS_MARGIN_KIB / 1024} MiB over a plain image's peak RSS`, async (_name, file, check) => {
    const run = await agiqaScore(join(dir, file));
    check(run);
    expect(run.ms).toBeLessThan(WALL_BUDGET_MS);
    expect(run.maxRssKib).toBeLessThan(baselineRssKib + RSS_MARGIN_KIB);
  }, WALL_BUDGET_MS * 3);
});
