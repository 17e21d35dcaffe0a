// The model part's cost, this tree's pack against the previous pack's tree (run.sh's worktree of it):
// each tree's own computeSignals + its quality.onnx on one 224² crop (1 thread), interleaved in one
// process, so machine load weighs on both alike. Median wall and CPU ms per image, and their ratio.
//   npm run build && npx tsx training/lite/compare-cost.ts [--previous training/data/previous-src]
//     [--image examples/coffee.png] [--size 1024] [--runs 100]
// The previous tree must be built (run.sh builds it for its own eval).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { median } from '../../bench/lib.js';

const { values } = parseArgs({
  options: {
    previous: { type: 'string', default: 'training/data/previous-src' },
    image: { type: 'string', default: 'examples/coffee.png' },
    size: { type: 'string', default: '1024' },
    runs: { type: 'string', default: '100' },
  },
});
type Signals = { computeSignals: (image: { rgb: Uint8Array; width: number; height: number }) => { features: Float32Array } };
interface Side {
  signals: Signals;
  model: ort.InferenceSession;
  wall: number[];
  cpu: number[];
  /** The model alone (wall; one intra-op thread, so ≈ its CPU). */
  modelWall: number[];
}
async function side(root: string): Promise<Side> {
  const signals = (await import(pathToFileURL(resolve(root, 'dist/signals/index.js')).href)) as Signals;
  const opts = { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential' as const };
  return { signals, model: await ort.InferenceSession.create(resolve(root, 'models/lite/quality.onnx'), opts), wall: [], cpu: [], modelWall: [] };
}
const current = await side('.');
const previous = await side(values.previous!);
const size = Number(values.size);
const { data, info } = await sharp(readFileSync(values.image!)).resize(size, size).removeAlpha().raw().toBuffer({ resolveWithObject: true });
const image = { rgb: new Uint8Array(data), width: info.width, height: info.height };
const crops = new ort.Tensor('float32', Float32Array.from({ length: 224 * 224 * 3 }, (_, i) => image.rgb[i % image.rgb.length]!), [1, 224, 224, 3]);

async function once(s: Side, record = false): Promise<void> {
  const f = s.signals.computeSignals(image).features;
  const t0 = performance.now();
  await s.model.run({ crops, signals: new ort.Tensor('float32', f, [1, f.length]) });
  if (record) s.modelWall.push(performance.now() - t0);
}
for (let i = 0; i < 5; i++) for (const s of [current, previous]) await once(s);
for (let i = 0; i < Number(values.runs); i++) {
  for (const s of i % 2 ? [current, previous] : [previous, current]) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await once(s, true);
    s.wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    s.cpu.push((c.user + c.system) / 1000);
  }
}
const ms = (s: Side) => ({ wallMs: +median(s.wall).toFixed(2), cpuMs: +median(s.cpu).toFixed(2), modelWallMs: +median(s.modelWall).toFixed(2) });
console.log(JSON.stringify({
  image: values.image, size,
  current: ms(current), previous: ms(previous),
  ratioWall: +(median(current.wall) / median(previous.wall)).toFixed(3),
  ratioCpu: +(median(current.cpu) / median(previous.cpu)).toFixed(3),
  ratioModelWall: +(median(current.modelWall) / median(previous.modelWall)).toFixed(3),
}));
