// `agiqa train --pack <judge pack>`: the judge's three rounds (layout judge/1) with the lite pack's
// image tokens, against the model-server double; the answers are cached, and the written pack scores
// through its predictor. Needs Python with torch + onnx for the training part.
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { run as trainRun } from '../../src/cli/commands/train.js';
import { readDataset } from '../../src/evaluation/datasets.js';
import { judgeFeatureSource } from '../../src/evaluation/training-features-judge.js';
import { loadPack } from '../../src/model/packs.js';
import { filesDigest } from '../../src/model/pack-manifest.js';
import { createScorer } from '../../src/scoring/index.js';
import { runCaptured } from '../cli/run-cli.js';
import { writeImages } from '../fixtures/datasets/make-images.js';
import { makeTinyPack } from '../fixtures/datasets/tiny-pack.js';
import { brightRate } from '../fixtures/distill/bright-teacher.js';
import { startJudgeDouble, type RunningDouble } from '../fixtures/judge/judge-double.js';
import { makeJudgePack } from '../fixtures/judge/judge-pack.js';

const PYTHON = process.env.AGIQA_PYTHON ?? '/usr/bin/python3';
const probe = spawnSync(PYTHON, ['-c', 'import torch, onnx, numpy'], { encoding: 'utf8' });
const torchMissing = probe.status !== 0 ? `${PYTHON} cannot import torch, onnx and numpy` : null;

let work: string;
let data: string;
let double: RunningDouble | undefined;
const savedHome = process.env.AGIQA_HOME;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'agiqa-judge-train-'));
  data = join(work, 'data');
  const rows = Array.from({ length: 30 }, (_, i) => ({ name: `img${i}.png`, mos: 0.3 + (i * 4.4) / 29 }));
  await writeImages(data, rows);
  await writeFile(
    join(data, 'ratings.csv'),
    `image,prompt,mos_quality,mos_correspondence,mos_authenticity\n${rows.map((r) => `${r.name},a grey square,${r.mos.toFixed(3)},${(5 - r.mos).toFixed(3)},${(r.mos / 2).toFixed(3)}`).join('\n')}\n`,
  );
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

describe('judgeFeatureSource', () => {
  it('makes three round tokens per image from the judge and 3×3 image tokens from the lite pack, asking the judge once', async () => {
    double = await startJudgeDouble({ flavor: 'llama.cpp', models: ['minicpm-v:8b'], rate: brightRate });
    const { home, pack: judge } = await makeJudgePack(double.url);
    const lite = await loadPack('tiny-lite', { packDir: await makeTinyPack(join(work, 'lite-a')) });
    const dataset = await readDataset(join(data, 'ratings.csv'));
    const items = dataset.items.slice(0, 4);
    const source = judgeFeatureSource(judge, lite, { home });
    const { features, skipped } = await source.extract(items);
    expect(skipped).toEqual([]);
    expect(double.chatRequests()).toHaveLength(4 * 3 * 2);
    const first = features.get('img0.png')!;
    expect(Object.keys(first.rounds)).toEqual(['quality', 'correspondence', 'authenticity']);
    expect(first.tokens.length % 9).toBe(0);
    // lite has no text tower: 5 level values + entropy, expected MOS, logprobs flag
    expect(source.evidenceWidth).toBe(3);
    expect(source.layout).toMatchObject({ version: 'judge/1', imageTokens: { source: 'lite-spatial', pack: { name: 'tiny-lite' } } });
    expect(first.rounds.quality!.evidence[1]).toBeCloseTo(first.head.quality!, 2);
    expect(features.get('img3.png')!.head.quality!).toBeGreaterThan(first.head.quality!);

    const again = await judgeFeatureSource(judge, lite, { home }).extract(items);
    expect(double.chatRequests()).toHaveLength(24);
    expect([...again.features.values()].every((f) => f.cached)).toBe(true);
  });
});

describe.skipIf(torchMissing !== null)(`agiqa train --pack <judge>${torchMissing ? ` — skipped: ${torchMissing}` : ''}`, () => {
  it('trains the predictor over the judge rounds and the pack scores through it', async () => {
    double = await startJudgeDouble({ flavor: 'ollama', models: ['minicpm-v:8b'], rate: brightRate });
    const { home, pack: judge } = await makeJudgePack(double.url, { flavor: 'ollama' });
    process.env.AGIQA_HOME = home;
    // the fast pack is installed by name: the new pack loads it so at scoring time
    await makeTinyPack(join(home, 'models', 'tiny-lite'));
    const out = join(work, 'models', 'judge-trained');
    const { code, stdout, stderr } = await runCaptured(() =>
      trainRun(['--dataset', join(data, 'ratings.csv'), '--pack', judge.dir, '--image-pack', 'tiny-lite', '--out', out, '--epochs', '2', '--kinds', 'xlstm', '--ship', 'xlstm', '--seed', '3', '--trainer-arg=--width=16', '--trainer-arg=--blocks=2']),
    );
    expect(code, stderr).toBe(0);
    expect(stdout).toContain("test split — judge-test's own head");
    const manifest = JSON.parse(await readFile(join(out, 'pack.json'), 'utf8'));
    expect(manifest.input.kind).toBe('judge');
    // files digest before the "+", the judge input's digest after it (both key the score cache)
    expect(manifest.version).toBe(`1.0.0-${filesDigest(manifest.files)}+${judge.manifest.version.split('+')[1]}`);
    expect(manifest.predictor).toMatchObject({ tokenGrid: 3, evidenceWidth: 3, features: { version: 'judge/1', imageTokens: { pack: { name: 'tiny-lite' } } }, aspects: ['quality', 'correspondence', 'authenticity'] });

    const judgeAlone = await createScorer({ packDir: judge.dir });
    const trained = await createScorer({ packDir: out });
    try {
      const image = await readFile(join(data, 'img20.png'));
      const before = await judgeAlone.score({ image, name: 'img20.png', prompt: 'a grey square' });
      const after = await trained.score({ image, name: 'img20.png', prompt: 'a grey square' });
      expect(after.pack.name).toBe('judge-trained');
      expect(after.judge?.aspects.quality?.description).toBe(before.judge?.aspects.quality?.description);
      for (const aspect of ['quality', 'correspondence', 'authenticity'] as const) expect(after.aspects[aspect].mos, aspect).not.toBe(before.aspects[aspect].mos);
    } finally {
      await Promise.all([judgeAlone.close(), trained.close()]);
    }
  }, 300_000);
});
