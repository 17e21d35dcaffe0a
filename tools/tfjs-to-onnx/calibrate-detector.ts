// Calibration for tools/tfjs-to-onnx/quantize_detector.py: runs the instrumented float detector on
// generated scenes (tools/detection-fixtures/make-set.ts, a seed other than the evaluation set's) and the
// repo's examples/, fed exactly as the runtime feeds it, and records each activation's range: the
// --percentile of its low and high tails, not min/max (this network takes 0-255 pixels and keeps no
// normalisation, so its residual sums carry rare values 2-3x the bulk's; a min/max step of ~1 wipes out
// the small activations that separate objects; measured in docs/object-checks.md) — except the two
// output heads, whose rare high values are the detections themselves: they keep min/max (a percentile
// range of the class heat map ends below logit 0 and would cap every score at 0.5). Also checks that
// float.onnx still gives the converted model's detections.
//   npx tsx tools/tfjs-to-onnx/calibrate-detector.ts --original detector-f16.onnx --dir <prepare output> \
//     --images <dir of pictures> [--images examples] [--percentile 99.99[,99.9,…]]
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { decodeImage } from '../../src/image/index.js';
import { detectorInput } from '../../src/model/object-detector.js';

const { values } = parseArgs({
  options: { original: { type: 'string' }, dir: { type: 'string' }, images: { type: 'string', multiple: true }, percentile: { type: 'string', default: '99.99' } },
});
// Tensors whose range is min/max whatever the percentile: the output heads (see above).
const FULL_RANGE = ['centernet_cls_output', 'centernet_wh_output'];
// Values kept per tensor and image: a strided sample (the tails' estimate rests on ~SAMPLE × images × (1 - p) values).
const SAMPLE = 4096;
if (!values.original || !values.dir || !values.images?.length) {
  console.error('usage: calibrate-detector.ts --original detector-f16.onnx --dir <prepare output> --images <dir> [--images <dir>]');
  process.exit(2);
}

/** The pictures of a folder, sorted by name (a make-set folder or any folder of PNG/JPEG files). */
function picturesIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => /\.(png|jpe?g|webp)$/i.test(f))
    .sort()
    .map((f) => join(dir, f));
}

const tensors = JSON.parse(readFileSync(join(values.dir, 'tensors.json'), 'utf8')) as string[];
const options: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 2 };
const instrumented = await ort.InferenceSession.create(join(values.dir, 'instrumented.onnx'), options);
const original = await ort.InferenceSession.create(values.original, options);
// The input side the graph was converted for (cli.ts --size), read from the graph as the runtime reads it.
const inputMeta = instrumented.inputMetadata.find((m) => m.name === 'images');
const size = inputMeta?.isTensor ? Number(inputMeta.shape[1]) : NaN;
if (!(size >= 32)) {
  console.error('the instrumented graph declares no fixed images [1,S,S,3] input');
  process.exit(1);
}
const images = values.images.flatMap(picturesIn);
const samples = new Map<string, Float32Array>(tensors.map((t) => [t, new Float32Array(SAMPLE * images.length)]));
const extremes = new Map<string, [number, number]>(tensors.map((t) => [t, [Infinity, -Infinity]]));
let worst = { score: 0, box: 0, unmatched: 0 };

/**
 * How far `b`'s detections (score ≥ 0.15, what the runtime keeps) are from `a`'s: each of `a`'s matched to
 * the same-class row of `b` with the nearest box. Rows are compared by match, not by index: a score change
 * in the fifth decimal can swap two near-equal peaks' ranks.
 */
function detectionDistance(a: Float32Array, b: Float32Array): { score: number; box: number; unmatched: number } {
  const rows = (d: Float32Array) => Array.from({ length: d.length / 6 }, (_, i) => d.subarray(i * 6, i * 6 + 6)).filter((r) => r[4]! >= 0.15);
  const out = { score: 0, box: 0, unmatched: 0 };
  const others = rows(b);
  for (const r of rows(a)) {
    const near = others
      .filter((o) => o[5] === r[5])
      .map((o) => ({ o, box: Math.max(...[0, 1, 2, 3].map((k) => Math.abs(o[k]! - r[k]!))) }))
      .sort((x, y) => x.box - y.box)[0];
    if (near === undefined || near.box > 1) out.unmatched++;
    else {
      out.box = Math.max(out.box, near.box);
      out.score = Math.max(out.score, Math.abs(near.o[4]! - r[4]!));
    }
  }
  return out;
}
for (const [index, path] of images.entries()) {
  const input = detectorInput(await decodeImage(await readFile(path), path), size);
  const feeds = { images: new ort.Tensor('float32', input, [1, size, size, 3]) };
  const out = await instrumented.run(feeds, [...new Set(['detections', ...tensors])]);
  for (const name of tensors) {
    const data = out[name]!.data as Float32Array;
    const into = samples.get(name)!;
    const step = data.length / SAMPLE;
    for (let i = 0; i < SAMPLE; i++) into[index * SAMPLE + i] = data[Math.floor(i * step + ((index * 0.618) % 1) * step)]!;
    const range = extremes.get(name)!;
    for (const v of data) {
      if (v < range[0]) range[0] = v;
      if (v > range[1]) range[1] = v;
    }
  }
  if (index < 10) {
    const a = (await original.run(feeds, ['detections'])).detections!.data as Float32Array;
    const d = detectionDistance(a, out.detections!.data as Float32Array);
    worst = { score: Math.max(worst.score, d.score), box: Math.max(worst.box, d.box), unmatched: worst.unmatched + d.unmatched };
  }
  if ((index + 1) % 50 === 0) console.error(`${index + 1}/${images.length}`);
}
console.log(
  `float (prepared) vs converted graph over 10 images: ${worst.unmatched} detections unmatched, scores within ${worst.score.toExponential(2)}, boxes within ${worst.box.toExponential(2)} px`,
);
// Boxes are in input pixels (0-size). HardSwish's exact 1/6 against float16's 0.1666260 moves scores by up
// to 4e-3 and boxes by 0.14 px (measured on these images); int8 moves them ten times more. Beyond these
// bounds the prepared graph is a different graph.
if (worst.unmatched > 0 || !(worst.score <= 1e-2) || !(worst.box <= 0.5)) {
  console.error('the float graph does not match the converted one');
  process.exit(1);
}
for (const sample of samples.values()) sample.sort();
// The first percentile is ranges.json; any others (to compare) go to ranges-<percentile>.json.
for (const [index, percentile] of values.percentile.split(',').entries()) {
  const p = Number(percentile) / 100;
  const ranges: Record<string, [number, number]> = {};
  for (const [name, sample] of samples) {
    const at = (q: number) => sample[Math.min(sample.length - 1, Math.max(0, Math.round(q * (sample.length - 1))))]!;
    ranges[name] = FULL_RANGE.some((part) => name.includes(part)) ? extremes.get(name)! : [at(1 - p), at(p)];
  }
  const file = join(values.dir, index === 0 ? 'ranges.json' : `ranges-${percentile}.json`);
  writeFileSync(file, JSON.stringify(ranges, null, 1));
  console.log(`wrote ${file}: ${tensors.length} tensors from ${images.length} images, tails at ${percentile} %`);
}
