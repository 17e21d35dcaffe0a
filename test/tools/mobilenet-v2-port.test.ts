// The PyTorch port (training/lite/mobilenet_v2.py) against onnxruntime on the converted model:
// node dumps a deterministic input and ORT's outputs, training/lite/check_port.py compares.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { dumpReference } from '../../tools/tfjs-to-onnx/dump-reference.js';
import { convertNsfwjsMobilenet, findNsfwjsMobilenetDir } from '../../tools/tfjs-to-onnx/index.js';

const PYTHON = '/usr/bin/python3';
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

function skipReason(): string | undefined {
  if (findNsfwjsMobilenetDir() === undefined) return 'the npm package nsfwjs cannot be resolved';
  if (!existsSync(PYTHON)) return `${PYTHON} does not exist`;
  const probe = spawnSync(PYTHON, ['-c', 'import torch, onnx'], { encoding: 'utf8' });
  if (probe.status !== 0) return `${PYTHON} cannot import torch and onnx`;
  return undefined;
}

const reason = skipReason();
// Python start-up plus a torch forward/backward pass: seconds alone, much more on a busy 2-core machine.
const SLOW = 180_000;
const pythonEnv = { ...process.env, OMP_NUM_THREADS: '1' };
const suite = reason === undefined ? describe : describe.skip;

suite(reason === undefined ? 'PyTorch port of MobileNetV2' : `PyTorch port of MobileNetV2 (skipped: ${reason})`, () => {
  let dir: string | undefined;
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('matches onnxruntime within 1e-4 and gets a gradient on every parameter', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'mobilenet-port-'));
    const model = path.join(dir, 'mobilenet_v2.onnx');
    await writeFile(model, (await convertNsfwjsMobilenet()).bytes);
    const shapes = await dumpReference(model, path.join(dir, 'ref'), 2);
    expect(shapes.spatial).toEqual([2, 7, 7, 1280]);

    const run = spawnSync(PYTHON, [path.join(ROOT, 'training/lite/check_port.py'), '--model', model, '--ref-dir', path.join(dir, 'ref')], {
      encoding: 'utf8',
      env: pythonEnv,
    });
    expect(run.stderr).toBe('');
    const report = JSON.parse(run.stdout) as { max_abs_diff: { pooled: number; spatial: number }; ok: boolean; parameters_without_gradient: string[] };
    expect(report.max_abs_diff.pooled).toBeLessThanOrEqual(1e-4);
    expect(report.max_abs_diff.spatial).toBeLessThanOrEqual(1e-4);
    expect(report.parameters_without_gradient).toEqual([]);
    expect(run.status).toBe(0);
  }, SLOW);

  it('fails the check when the reference does not match', async () => {
    const ref = path.join(dir!, 'ref');
    const pooled = new Float32Array(Uint8Array.from(await readFile(path.join(ref, 'pooled.f32'))).buffer);
    pooled[0] = pooled[0]! + 0.01;
    await writeFile(path.join(ref, 'pooled.f32'), new Uint8Array(pooled.buffer));
    const run = spawnSync(PYTHON, [path.join(ROOT, 'training/lite/check_port.py'), '--model', path.join(dir!, 'mobilenet_v2.onnx'), '--ref-dir', ref, '--skip-backward'], {
      encoding: 'utf8',
      env: pythonEnv,
    });
    expect(run.status).toBe(1);
    expect((JSON.parse(run.stdout) as { ok: boolean }).ok).toBe(false);
  }, SLOW);
});
