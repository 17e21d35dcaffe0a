import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run as evalRun } from '../../src/cli/commands/eval.js';
import { run as trainRun } from '../../src/cli/commands/train.js';
import type { EvaluationReport } from '../../src/evaluation/evaluate.js';
import { writeImages } from '../fixtures/datasets/make-images.js';
import { makeTinyPack } from '../fixtures/datasets/tiny-pack.js';
import { runCaptured } from './run-cli.js';

// train → eval round trip on 40 generated images with the tiny lite-crops pack and a tiny network
// (seconds). Needs Python with torch + onnx; skipped with the reason otherwise.
const PYTHON = process.env.AGIQA_PYTHON ?? '/usr/bin/python3';
const probe = spawnSync(PYTHON, ['-c', 'import torch, onnx, numpy'], { encoding: 'utf8' });
const torchMissing = probe.status !== 0 ? `${PYTHON} cannot import torch, onnx and numpy` : null;

let work: string;
const savedHome = process.env.AGIQA_HOME;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'agiqa-train-'));
  process.env.AGIQA_HOME = join(work, 'home');
});
afterAll(async () => {
  if (savedHome === undefined) delete process.env.AGIQA_HOME;
  else process.env.AGIQA_HOME = savedHome;
  await rm(work, { recursive: true, force: true });
});

describe.skipIf(torchMissing !== null)(`agiqa train → agiqa eval${torchMissing ? ` — skipped: ${torchMissing}` : ''}`, () => {
  it('trains a predictor, writes a pack that records data, split, seed and metrics, and eval reproduces its held-out numbers', async () => {
    const data = join(work, 'data');
    const rows = Array.from({ length: 40 }, (_, i) => ({ name: `img${i}.png`, mos: 0.3 + (i * 4.4) / 39 }));
    await writeImages(data, rows);
    await writeFile(join(data, 'ratings.csv'), `image,prompt,mos\n${rows.map((r) => `${r.name},,${r.mos.toFixed(3)}`).join('\n')}\n`);
    const base = await makeTinyPack(join(work, 'tiny-lite'));
    const out = join(work, 'models', 'tiny-trained');

    const { code, stdout, stderr } = await runCaptured(() =>
      trainRun(['--dataset', join(data, 'ratings.csv'), '--pack', base, '--out', out, '--epochs', '3', '--seed', '7', '--workers', '1', '--trainer-arg=--width=16', '--trainer-arg=--blocks=2']),
    );
    expect(code, stderr).toBe(0);
    expect(stdout).toContain('test split — xLSTM predictor');
    expect(stdout).toContain('test split — MLP on mean-pooled tokens');
    expect(stdout).toContain("test split — tiny-lite's own head");

    const manifest = JSON.parse(await readFile(join(out, 'pack.json'), 'utf8'));
    expect(manifest.name).toBe('tiny-trained');
    expect(manifest.training.seed).toBe(7);
    expect(manifest.training.split.seed).toBe(7);
    expect(manifest.training.split.counts).toEqual({ train: 29, val: 3, test: 8 });
    expect(manifest.training.data).toMatchObject({ format: 'csv', labelFiles: ['ratings.csv'], aspects: ['quality'], images: 40 });
    expect(manifest.metrics.ablation.test.xlstm.quality.n).toBe(8);
    expect(manifest.metrics.ablation.test.mlp.quality.n).toBe(8);
    expect(manifest.metrics.ablation.test.head.quality.n).toBe(8);
    // 3 validation images are too few to select on; the pack says which split it selected on
    expect(manifest.metrics.ablation.selectedOn).toBe('test');
    // features were cached by image hash under $AGIQA_HOME/cache
    const cacheRoot = join(work, 'home', 'cache', 'predictor-features');
    const [cacheDir] = await readdir(cacheRoot);
    expect(await readdir(join(cacheRoot, cacheDir!))).toHaveLength(40);

    const reportPath = join(work, 'eval.json');
    const { code: evalCode, stderr: evalErrors } = await runCaptured(() => evalRun(['--dataset', join(data, 'ratings.csv'), '--pack', out, '--split', 'test', '--seed', '7', '--workers', '1', '--report', reportPath]));
    expect(evalCode, evalErrors).toBe(0);
    const report = JSON.parse(await readFile(reportPath, 'utf8')) as EvaluationReport;
    expect(report.pack.name).toBe('tiny-trained');
    const heldOut = manifest.metrics.heldOut.aspects.quality;
    expect(report.aspects.quality!.n).toBe(heldOut.n);
    // the scorer rounds MOS to 3 decimals, so the numbers agree closely but not bit for bit
    expect(report.aspects.quality!.srcc).toBeCloseTo(heldOut.srcc, 1);
    expect(Math.abs(report.aspects.quality!.rmse - heldOut.rmse)).toBeLessThan(0.01);
    // torch training and two ONNX evaluations: over a minute when the whole suite shares 2 cores
  }, 300_000);
});

describe('agiqa train options', () => {
  it('reports every bad option at once', async () => {
    const { code, stderr } = await runCaptured(() => trainRun(['--kinds', 'lstm', '--epochs', '0']));
    expect(code).toBe(2);
    expect(stderr).toContain('--dataset is required');
    expect(stderr).toContain('--out is required');
    expect(stderr).toContain('Expected xlstm and/or mlp for --kinds but received "lstm"');
    expect(stderr).toContain('Expected an integer from 1 to 1000 for --epochs but received "0"');
  });
});
