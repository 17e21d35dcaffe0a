// trainPredictor on a CLIP-family base pack (the tiny random-weight fixture): three rounds per image,
// layout clip/1 recorded in pack.json, and the written pack scoring through its predictor in worker
// threads. Needs Python with torch + onnx; skipped with the reason otherwise.
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readDataset } from '../../src/evaluation/datasets.js';
import { withSplitFiles } from '../../src/evaluation/split-file.js';
import { trainPredictor } from '../../src/evaluation/train-predictor.js';
import { loadPack } from '../../src/model/packs.js';
import { filesDigest } from '../../src/model/pack-manifest.js';
import { createScorer } from '../../src/scoring/index.js';
import { writeImages } from '../fixtures/datasets/make-images.js';
import { installTinyClip } from '../fixtures/tiny-clip/install.js';

const PYTHON = process.env.AGIQA_PYTHON ?? '/usr/bin/python3';
const probe = spawnSync(PYTHON, ['-c', 'import torch, onnx, numpy'], { encoding: 'utf8' });
const torchMissing = probe.status !== 0 ? `${PYTHON} cannot import torch, onnx and numpy` : null;
const PROMPTS = ['a red fox in the snow', 'a lighthouse at dusk, long shot', 'portrait of an old sailor', 'a bowl of fruit on a table'];

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'agiqa-train-clip-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe.skipIf(torchMissing !== null)(`trainPredictor on a CLIP pack${torchMissing ? ` — skipped: ${torchMissing}` : ''}`, () => {
  it('learns from the three rounds (clip/1), follows a split file, and the pack scores through its predictor', async () => {
    const { home, dir } = await installTinyClip();
    const data = join(work, 'data');
    const rows = Array.from({ length: 30 }, (_, i) => ({ name: `img${i}.png`, mos: 0.3 + (i * 4.4) / 29 }));
    await writeImages(data, rows);
    const csv = rows.map((r, i) => `${r.name},"${PROMPTS[i % PROMPTS.length]}",${r.mos.toFixed(3)},${(5 - r.mos).toFixed(3)},${((r.mos + 1) % 5).toFixed(3)}`);
    await writeFile(join(data, 'ratings.csv'), `image,prompt,mos_quality,mos_correspondence,mos_authenticity\n${csv.join('\n')}\n`);
    // the paper's split as M3-AGIQA's CSV lists: 22 train, 8 test
    await writeFile(join(data, 'mine_train.csv'), `name,gt_level_word,description_target\n${rows.slice(0, 22).map((r) => `${r.name},fair,"made up, text"`).join('\n')}\n`);
    await writeFile(join(data, 'mine_test.csv'), `name,gt_level_word,pred_level_word,description_generated\n${rows.slice(22).map((r) => `${r.name},fair,fair,made up`).join('\n')}\n`);
    const dataset = (await withSplitFiles(await readDataset(join(data, 'ratings.csv')), [join(data, 'mine_train.csv'), join(data, 'mine_test.csv')], 3)).dataset;
    expect(dataset.split.counts).toEqual({ train: 20, val: 2, test: 8 });

    const base = await loadPack('tiny-clip', { packDir: dir });
    // ship the predictor whatever the ablation says, so the scoring path is exercised
    const trained = join(work, 'models', 'clip-trained');
    const result = await trainPredictor({ dataset, base, out: trained, seed: 3, epochs: 2, kinds: ['xlstm'], home, ship: 'xlstm', trainerArgs: ['--width=16', '--blocks=2'] });
    expect(result.winner).toBe('xlstm');
    const pack = JSON.parse(await readFile(join(trained, 'pack.json'), 'utf8'));
    expect(pack.training.split.scheme).toContain('train=mine_train.csv, test=mine_test.csv');
    // the version carries the digest of the pack's files, predictor included: the score cache is keyed by it
    expect(pack.version).toBe(`1.0.0+${filesDigest(pack.files)}`);
    expect(pack.files.map((f: { path: string }) => f.path)).toContain('predictor.onnx');
    expect(pack.training.data.aspects).toEqual(['quality', 'correspondence', 'authenticity']);
    expect(pack.metrics.ablation.selectedOn).toBe('none (--ship xlstm)');
    expect(Object.keys(result.ablation.test.xlstm!)).toEqual(['quality', 'correspondence', 'authenticity']);
    // the zero-shot rounds are the pack's own candidate, measured on every aspect
    expect(Object.keys(result.ablation.test.head!)).toEqual(['quality', 'correspondence', 'authenticity']);
    expect(pack.predictor).toMatchObject({
      tokenGrid: 1,
      tokenDim: 8,
      evidenceWidth: 5,
      aspects: ['quality', 'correspondence', 'authenticity'],
      features: { version: 'clip/1', imageTokens: { source: 'clip-image-embedding' } },
    });
    expect(Object.keys(pack.predictor.features.rounds)).toEqual(['quality', 'correspondence', 'authenticity']);
    expect(pack.predictor.features.rounds.correspondence).toEqual(['cos_prompt', 'cos_phrase_min', 'cos_phrase_mean', 'phrase_share']);

    const zeroShot = await createScorer({ packDir: dir, workers: 1, threadsPerWorker: 1 });
    const scorer = await createScorer({ packDir: trained, workers: 1, threadsPerWorker: 1 });
    try {
      const image = await readFile(join(data, 'img25.png'));
      const [before, after] = [await zeroShot.score({ image, name: 'img25.png', prompt: PROMPTS[1] }), await scorer.score({ image, name: 'img25.png', prompt: PROMPTS[1] })];
      expect(after.pack.name).toBe('clip-trained');
      for (const aspect of ['quality', 'correspondence', 'authenticity'] as const) {
        expect(after.aspects[aspect].mos).not.toBeNull();
        expect(after.aspects[aspect].mos, aspect).not.toBe(before.aspects[aspect].mos);
      }
    } finally {
      await Promise.all([zeroShot.close(), scorer.close()]);
    }
  }, 300_000);
});
