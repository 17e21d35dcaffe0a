import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PredictorModel } from '../../src/model/predictor.js';
import type { PredictorManifest } from '../../src/model/predictor-manifest.js';

// PyTorch vs the TS runtime on the same random inputs. Needs Python with torch + onnx
// (Debian: apt-get install python3-torch python3-onnx); skipped with the reason otherwise.
const PYTHON = process.env.AGIQA_PYTHON ?? '/usr/bin/python3';
const probe = spawnSync(PYTHON, ['-c', 'import torch, onnx'], { encoding: 'utf8' });
const torchMissing = probe.status !== 0 ? `${PYTHON} cannot import torch and onnx (${(probe.stderr || probe.error?.message || '').trim().split('\n').pop()})` : null;
const SCRIPT = new URL('../../training/predictor/parity.py', import.meta.url).pathname;

interface Case {
  inputs: Record<'image_tokens' | 'rounds' | 'round_mask', { dims: number[]; data: number[] }>;
  expected: { mos: { dims: number[]; data: number[] } };
}

const dirs: string[] = [];
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

async function parityCase(kind: string): Promise<{ model: PredictorModel; testCase: Case }> {
  const dir = await mkdtemp(join(tmpdir(), 'agiqa-parity-'));
  dirs.push(dir);
  const run = spawnSync(PYTHON, [SCRIPT, '--out', dir, '--kind', kind, '--token-dim', '24', '--evidence', '7', '--batch', '4'], { encoding: 'utf8' });
  expect(run.status, run.stderr).toBe(0);
  const testCase = JSON.parse(await readFile(join(dir, 'case.json'), 'utf8')) as Case;
  const manifest: PredictorManifest = {
    file: 'predictor.onnx',
    kind: kind as 'xlstm' | 'mlp',
    tokenGrid: 3,
    tokenDim: 24,
    evidence: { quality: 'signals' },
    evidenceWidth: 7,
    outputs: ['quality', 'correspondence', 'authenticity', 'overall'],
  };
  const model = await PredictorModel.load(join(dir, 'predictor.onnx'), manifest, { threads: 1, pack: 'parity' });
  return { model, testCase };
}

function items(testCase: Case) {
  const batch = testCase.inputs.image_tokens.dims[0]!;
  const slice = (name: keyof Case['inputs'], b: number) => {
    const t = testCase.inputs[name];
    const size = t.data.length / batch;
    return Float32Array.from(t.data.slice(b * size, (b + 1) * size));
  };
  return Array.from({ length: batch }, (_, b) => ({ imageTokens: slice('image_tokens', b), rounds: slice('rounds', b), roundMask: slice('round_mask', b) }));
}

describe.skipIf(torchMissing !== null)(`predictor parity with PyTorch${torchMissing ? ` — skipped: ${torchMissing}` : ''}`, () => {
  it('the exported xLSTM predictor gives PyTorch\'s outputs within 1e-4, batched and one by one', async () => {
    const { model, testCase } = await parityCase('xlstm');
    try {
      const expected = testCase.expected.mos.data;
      expect(testCase.expected.mos.dims).toEqual([4, 4]);
      const batched = await model.run(items(testCase));
      expect(batched).toHaveLength(16);
      for (let i = 0; i < expected.length; i++) expect(Math.abs(batched[i]! - expected[i]!)).toBeLessThanOrEqual(1e-4);
      // one at a time: the dynamic batch axis must not change the numbers
      for (const [b, item] of items(testCase).entries()) {
        const single = await model.run([item]);
        for (let c = 0; c < 4; c++) expect(Math.abs(single[c]! - expected[b * 4 + c]!)).toBeLessThanOrEqual(1e-4);
      }
      // a masked round is not reported as judged
      const predicted = await model.predict(items(testCase));
      expect(Object.keys(predicted[1]!.aspects)).toEqual(['quality']);
      expect(Object.keys(predicted[0]!.aspects)).toEqual(['quality', 'correspondence', 'authenticity']);
    } finally {
      await model.close();
    }
  });

  it('the MLP ablation baseline exports with the same interface; items of the wrong size are refused', async () => {
    const { model, testCase } = await parityCase('mlp');
    try {
      const out = await model.run(items(testCase));
      testCase.expected.mos.data.forEach((v, i) => expect(Math.abs(out[i]! - v)).toBeLessThanOrEqual(1e-4));
      const [item] = items(testCase);
      await expect(model.run([{ ...item!, imageTokens: new Float32Array(5) }])).rejects.toThrow(/Expected 216 image-token values but received 5/);
      await expect(model.run([{ ...item!, roundMask: new Float32Array(2) }])).rejects.toThrow(/Expected 3 round-mask values but received 2/);
    } finally {
      await model.close();
    }
  });
});
