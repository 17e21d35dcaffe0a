// The shipped lite detector is the int8 quantization of the converter's float output: reproduced byte for
// byte from the committed activation ranges (tools/tfjs-to-onnx/detector-ranges.json), and close to the
// float conversion it came from on the committed generated scenes.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertCenternet, findCenternetDir } from '../../tools/tfjs-to-onnx/centernet-source.js';
import { iou } from '../../src/model/object-detector.js';
import { detectSet, setMetrics } from '../../tools/detection-fixtures/evaluate.js';

const PYTHON = '/usr/bin/python3';
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SCRIPT = path.join(ROOT, 'tools/tfjs-to-onnx/quantize_detector.py');
const SET = path.join(ROOT, 'test/fixtures/detection');

function skipReason(): string | undefined {
  if (findCenternetDir() === undefined) return 'the npm package @vladmandic/human cannot be resolved';
  if (!existsSync(PYTHON)) return `${PYTHON} does not exist`;
  if (spawnSync(PYTHON, ['-c', 'import onnx, numpy'], { encoding: 'utf8' }).status !== 0) return `${PYTHON} cannot import onnx and numpy`;
  return undefined;
}

const reason = skipReason();
const suite = reason === undefined ? describe : describe.skip;

suite(reason === undefined ? 'int8 lite detector' : `int8 lite detector (skipped: ${reason})`, () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'agiqa-detector-int8-'));
    await writeFile(path.join(dir, 'detector-f16.onnx'), (await convertCenternet()).bytes);
  }, 120_000);
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  const run = (args: string[]) => {
    const out = spawnSync(PYTHON, [SCRIPT, ...args], { encoding: 'utf8', timeout: 170_000 });
    expect(out.status, out.stderr).toBe(0);
    return out.stdout;
  };

  it('is reproduced byte for byte from the converter output and the committed ranges', async () => {
    expect(run(['prepare', '--model', path.join(dir, 'detector-f16.onnx'), '--out-dir', dir])).toMatch(/folded 88 float16 casts, 3 resizes to 4-D sizes, 20 hard-swishes fused; 68 convolutions/);
    run(['quantize', '--model', path.join(dir, 'float.onnx'), '--ranges', path.join(ROOT, 'tools/tfjs-to-onnx/detector-ranges.json'), '--out', path.join(dir, 'detector.onnx')]);
    const hash = async (file: string) => createHash('sha256').update(await readFile(file)).digest('hex');
    expect(await hash(path.join(dir, 'detector.onnx'))).toBe(await hash(path.join(ROOT, 'models/lite/detector.onnx')));
  }, 180_000);

  it('pads depthwise channel counts to multiples of 16 without changing a detection', async () => {
    const ranges = path.join(ROOT, 'tools/tfjs-to-onnx/detector-ranges.json');
    if (!existsSync(path.join(dir, 'float.onnx'))) run(['prepare', '--model', path.join(dir, 'detector-f16.onnx'), '--out-dir', dir]);
    expect(run(['quantize', '--model', path.join(dir, 'float.onnx'), '--ranges', ranges, '--out', path.join(dir, 'padded.onnx')])).toMatch(/padded 72->80 18->32/);
    expect(run(['quantize', '--model', path.join(dir, 'float.onnx'), '--ranges', ranges, '--out', path.join(dir, 'unpadded.onnx'), '--no-pad-channels'])).not.toMatch(/72->80/);
    const [padded, unpadded] = [await detectSet(SET, path.join(dir, 'padded.onnx')), await detectSet(SET, path.join(dir, 'unpadded.onnx'))];
    expect(padded.detections.flat().length).toBeGreaterThan(10);
    expect(padded.detections).toEqual(unpadded.detections);
  }, 180_000);

  it('takes the picture as planes without changing a detection', async () => {
    const ranges = path.join(ROOT, 'tools/tfjs-to-onnx/detector-ranges.json');
    if (!existsSync(path.join(dir, 'float.onnx'))) run(['prepare', '--model', path.join(dir, 'detector-f16.onnx'), '--out-dir', dir]);
    run(['quantize', '--model', path.join(dir, 'float.onnx'), '--ranges', ranges, '--out', path.join(dir, 'nhwc.onnx'), '--nhwc-input']);
    const [planar, nhwc] = [await detectSet(SET), await detectSet(SET, path.join(dir, 'nhwc.onnx'))];
    expect(planar.detections.flat().length).toBeGreaterThan(10);
    expect(planar.detections).toEqual(nhwc.detections);
  }, 180_000);

  it('refuses ranges that miss an activation it quantizes', async () => {
    await writeFile(path.join(dir, 'partial.json'), JSON.stringify({}));
    const out = spawnSync(PYTHON, [SCRIPT, 'quantize', '--model', path.join(dir, 'float.onnx'), '--ranges', path.join(dir, 'partial.json'), '--out', path.join(dir, 'x.onnx')], { encoding: 'utf8' });
    expect(out.status).not.toBe(0);
    expect(out.stderr).toMatch(/no calibrated range for/);
  }, 60_000);

  it('finds the confident objects of the float conversion on the committed scenes, and loses at most a few weak ones', async () => {
    const [int8, float] = [await detectSet(SET), await detectSet(SET, path.join(dir, 'detector-f16.onnx'))];
    const [q, f] = [setMetrics(int8.scenes, int8.detections, 0.25), setMetrics(float.scenes, float.detections, 0.25)];
    // Measured: float 11 true and 0 false positives, int8 7 and 2 (weak objects, float scores 0.32-0.36;
    // on the 240 generated scenes recall 0.73 against 0.75, docs/object-checks.md).
    expect(f.present.truePositives - q.present.truePositives).toBeLessThanOrEqual(4);
    expect(q.present.falsePositives - f.present.falsePositives).toBeLessThanOrEqual(2);
    expect(q.position.accuracyWhenBothFound).toBe(1);
    // Every box the float conversion scores ≥ 0.5 but one (a false "person") is found again: same class,
    // IoU > 0.5, score within 0.15 (measured 0.14).
    let confident = 0;
    let matched = 0;
    float.detections.forEach((boxes, i) => {
      for (const d of boxes.filter((box) => box.score >= 0.5)) {
        confident++;
        const again = int8.detections[i]!.find((e) => e.classIndex === d.classIndex && iou(d, e) > 0.5 && Math.abs(e.score - d.score) < 0.15);
        if (again !== undefined) matched++;
      }
    });
    expect(confident).toBe(11);
    expect(matched).toBeGreaterThanOrEqual(10);
  }, 180_000);
});
