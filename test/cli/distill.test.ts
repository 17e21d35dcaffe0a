// `agiqa distill` end to end against the model-server double: the judge labels 40 generated images
// (its level distribution follows their brightness), the tiny lite pack learns the labels, the new
// pack names the teacher and scores with `agiqa score --pack`, and `agiqa eval` measures it; a run
// killed mid-labelling resumes without asking again what was answered.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { run as distillRun } from '../../src/cli/commands/distill.js';
import { run as evalRun } from '../../src/cli/commands/eval.js';
import { run as scoreRun } from '../../src/cli/commands/score.js';
import type { EvaluationReport } from '../../src/evaluation/evaluate.js';
import { writeImages } from '../fixtures/datasets/make-images.js';
import { makeTinyPack } from '../fixtures/datasets/tiny-pack.js';
import { brightRate } from '../fixtures/distill/bright-teacher.js';
import { startJudgeDouble, type RunningDouble } from '../fixtures/judge/judge-double.js';
import { makeJudgePack } from '../fixtures/judge/judge-pack.js';
import { runCaptured } from './run-cli.js';

const PYTHON = process.env.AGIQA_PYTHON ?? '/usr/bin/python3';
const probe = spawnSync(PYTHON, ['-c', 'import torch, onnx, numpy'], { encoding: 'utf8' });
const torchMissing = probe.status !== 0 ? `${PYTHON} cannot import torch, onnx and numpy` : null;
const CLI = fileURLToPath(new URL('../fixtures/distill/agiqa-cli.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../../', import.meta.url));

let work: string;
let data: string;
let double: RunningDouble | undefined;
const savedHome = process.env.AGIQA_HOME;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'agiqa-distill-'));
  process.env.AGIQA_HOME = join(work, 'home');
  data = join(work, 'data');
  const rows = Array.from({ length: 40 }, (_, i) => ({ name: `img${i}.png`, mos: 0.3 + (i * 4.4) / 39 }));
  await writeImages(data, rows);
  // "human" ratings: the MOS the brightness encodes, with a little disagreement
  await writeFile(join(data, 'ratings.csv'), `image,prompt,mos\n${rows.map((r, i) => `${r.name},a grey square,${Math.min(5, r.mos + (i % 3) * 0.1).toFixed(3)}`).join('\n')}\n`);
});
afterEach(async () => {
  await double?.close();
  double = undefined;
});
afterAll(async () => {
  if (savedHome === undefined) delete process.env.AGIQA_HOME;
  else process.env.AGIQA_HOME = savedHome;
  await rm(work, { recursive: true, force: true });
});

describe.skipIf(torchMissing !== null)(`agiqa distill → score → eval${torchMissing ? ` — skipped: ${torchMissing}` : ''}`, () => {
  it('labels with the judge, trains the fast pack on the labels, reports the teacher against human ratings, and the pack scores', async () => {
    double = await startJudgeDouble({ flavor: 'ollama', models: ['minicpm-v:8b'], rate: brightRate });
    const { pack: judge } = await makeJudgePack(double.url, { flavor: 'ollama' });
    const base = await makeTinyPack(join(work, 'tiny-lite'));
    const out = join(work, 'models', 'lite-distilled');
    const args = ['--teacher', judge.dir, '--images', join(data, 'ratings.csv'), '--pack', base, '--out', out, '--seed', '5', '--epochs', '3', '--workers', '1', '--trainer-arg=--width=16', '--trainer-arg=--blocks=2'];

    const { code, stdout, stderr } = await runCaptured(() => distillRun(args));
    expect(code, stderr).toBe(0);
    expect(stdout).toContain('labels   40 image(s) labelled · 40 answer(s) asked · 0 from');
    expect(stdout).toContain('teacher minicpm-v:8b against the human ratings — every rated image');
    expect(stdout).toContain('test split — xLSTM predictor');
    // only quality was asked: the lite pack learns quality alone
    expect(double.chatRequests()).toHaveLength(80);

    const manifest = JSON.parse(await readFile(join(out, 'pack.json'), 'utf8'));
    expect(manifest.name).toBe('lite-distilled');
    expect(manifest.training.teacher).toMatchObject({ pack: { name: 'judge-test' }, model: 'minicpm-v:8b', aspects: ['quality'] });
    expect(manifest.training.labels).toMatchObject({ file: 'teacher-labels.jsonl', source: 'ratings.csv', images: 40, failed: 0 });
    const teacherAll = manifest.training.teacherVsHuman.all.quality;
    expect(teacherAll.n).toBe(40);
    expect(teacherAll.srcc).toBeGreaterThan(0.9);
    expect(manifest.training.split.counts).toEqual({ train: 29, val: 3, test: 8 });

    // a second run finds every answer in the cache and asks the judge nothing
    const again = await runCaptured(() => distillRun(args));
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('40 answer(s) asked'.replace('40', '0'));
    expect(double.chatRequests()).toHaveLength(80);

    const scored = await runCaptured(() => scoreRun([join(data, 'img39.png'), '--pack', out, '--json']));
    expect(scored.code, scored.stderr).toBe(0);
    expect(JSON.parse(scored.stdout)).toMatchObject({ pack: { name: 'lite-distilled' }, aspects: { quality: { mos: expect.any(Number) } } });

    const report = join(work, 'eval.json');
    const evaluated = await runCaptured(() => evalRun(['--dataset', join(data, 'ratings.csv'), '--pack', out, '--split', 'test', '--seed', '5', '--workers', '1', '--report', report]));
    expect(evaluated.code, evaluated.stderr).toBe(0);
    const measured = JSON.parse(await readFile(report, 'utf8')) as EvaluationReport;
    expect(measured.aspects.quality!.n).toBe(8);
  }, 300_000);
});

describe('agiqa distill, killed mid-labelling', () => {
  it('keeps the answers written before the kill and asks only the rest on the next run', async () => {
    double = await startJudgeDouble({ flavor: 'llama.cpp', models: ['minicpm-v:8b'], rate: brightRate, delayMs: 60 });
    const { pack: judge } = await makeJudgePack(double.url);
    const base = await makeTinyPack(join(work, 'tiny-lite-kill'));
    const out = join(work, 'models', 'killed');
    const args = ['distill', '--teacher', judge.dir, '--images', data, '--pack', base, '--out', out, '--label-only', '--concurrency', '1'];
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: REPO, env: { ...process.env }, stdio: 'ignore' });
    const labels = join(out, 'teacher-labels.jsonl');
    const lines = async () => (await readFile(labels, 'utf8').catch(() => '')).split('\n').filter((l) => l.trim() !== '');
    const deadline = Date.now() + 60_000;
    while ((await lines()).length < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    // a line the kill cut short is no answer
    const parsed = async () =>
      (await lines()).flatMap((l) => {
        try {
          return [JSON.parse(l) as { name: string; mos: number }];
        } catch {
          return [];
        }
      });
    const kept = await parsed();
    expect(kept.length).toBeGreaterThanOrEqual(5);
    expect(kept.length).toBeLessThan(40);

    const before = double.chatRequests().length;
    const { code, stdout, stderr } = await runCaptured(() => distillRun(args.slice(1)));
    expect(code, stderr).toBe(0);
    expect(stdout).toContain(`labels   40 image(s) labelled · ${40 - kept.length} answer(s) asked · ${kept.length} from`);
    // two requests (description, rating) per image not yet answered, none for the others
    expect(double.chatRequests().length - before).toBe(2 * (40 - kept.length));
    const after = await parsed();
    expect(after).toHaveLength(40);
    expect(new Set(after.map((r) => r.name)).size).toBe(40);
    for (const record of kept) expect(after.find((r) => r.name === record.name)!.mos).toBe(record.mos);
  }, 300_000);
});
