// Calibration for training/lite/quantize.py: runs the instrumented float model on the runtime's own
// crop of training images and records each activation's range; also checks that the simplified
// graph (pads folded, ReLU+Clip merged) still matches the exported model.
//   npx tsx training/lite/calibrate.ts --original models/lite/quality.onnx --dir training/data/quant \
//     --dataset training/data/dataset/dataset.csv [--count 300]
import { readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { readDataset, selectSplit } from '../../src/evaluation/datasets.js';
import { decodeImage } from '../../src/image/index.js';
import { cropTensor } from '../../src/model/lite-crops.js';
import { SIGNAL_FEATURE_NAMES } from '../../src/signals/index.js';

const { values } = parseArgs({
  options: {
    original: { type: 'string' },
    dir: { type: 'string' },
    dataset: { type: 'string' },
    count: { type: 'string', default: '300' },
    seed: { type: 'string', default: '0' },
  },
});
if (!values.original || !values.dir || !values.dataset) {
  console.error('usage: calibrate.ts --original quality.onnx --dir <prepare output> --dataset dataset.csv [--count N]');
  process.exit(2);
}

/** The training split's images, a seeded sample of `count` (every distortion type and level appears). */
async function trainingSample(csv: string, count: number, seed: number): Promise<string[]> {
  const paths = selectSplit(await readDataset(csv), 'train').flatMap((item) => (item.path === null ? [] : [item.path]));
  // A fixed linear congruential shuffle: the sample (and so the shipped model) must stay reproducible.
  let state = seed + 1;
  const random = (): number => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let i = paths.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [paths[i], paths[j]] = [paths[j]!, paths[i]!];
  }
  return paths.slice(0, count);
}

const tensors = JSON.parse(readFileSync(join(values.dir, 'tensors.json'), 'utf8')) as string[];
const options: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 2 };
const instrumented = await ort.InferenceSession.create(join(values.dir, 'instrumented.onnx'), options);
const original = await ort.InferenceSession.create(values.original, options);
const ranges = new Map<string, [number, number]>(tensors.map((t) => [t, [Infinity, -Infinity]]));
const outputs = ['quality_logits', 'quality_mos', 'pooled', 'spatial'];
let worst = 0;
const images = await trainingSample(values.dataset, Number(values.count), Number(values.seed));
for (const [index, path] of images.entries()) {
  const crops = cropTensor(await decodeImage(await readFile(path), path), 1, 224);
  const feeds = {
    crops: new ort.Tensor('float32', crops.data, crops.dims),
    // The backbone's activations do not depend on the signals; the heads still need an input.
    signals: new ort.Tensor('float32', new Float32Array(SIGNAL_FEATURE_NAMES.length), [1, SIGNAL_FEATURE_NAMES.length]),
  };
  const out = await instrumented.run(feeds, [...new Set([...outputs, ...tensors])]);
  for (const name of tensors) {
    const values = out[name]!.data as Float32Array;
    const range = ranges.get(name)!;
    for (const v of values) {
      if (v < range[0]) range[0] = v;
      if (v > range[1]) range[1] = v;
    }
  }
  if (index < 20) {
    const reference = await original.run(feeds, outputs);
    for (const name of outputs) {
      const a = reference[name]!.data as Float32Array;
      const b = out[name]!.data as Float32Array;
      // Relative above magnitude 1. `spatial` (the 7×7 ReLU6 map, 62,720 values up to 6, read only by the M3
      // predictor) is held to 1e-3: after 17 blocks float32 reordering alone (folded pads, fused Clip) moved
      // it by 1.2e-4 on the issue-16 training images, while pooled, logits and MOS stayed below 5e-5.
      const scale = name === 'spatial' ? 0.1 : 1;
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, (scale * Math.abs(a[i]! - b[i]!)) / Math.max(1, Math.abs(a[i]!)));
    }
  }
  if ((index + 1) % 100 === 0) console.error(`${index + 1}/${images.length}`);
}
console.log(`simplified vs exported graph: max |diff| (relative above 1; spatial ÷ 10) ${worst.toExponential(2)} over 20 images`);
if (!(worst <= 1e-4)) {
  console.error('the simplified graph does not match the exported one');
  process.exit(1);
}
writeFileSync(join(values.dir, 'ranges.json'), JSON.stringify(Object.fromEntries(ranges), null, 1));
console.log(`wrote ${join(values.dir, 'ranges.json')}: ${tensors.length} tensors from ${images.length} training images`);
