// Runs the frozen lower part of the backbone (exported by features.py as ONNX) over a file of
// uint8 crops in onnxruntime-node, which is several times faster on this CPU than PyTorch 1.13.
//   npx tsx training/lite/lower-features.ts <lower.onnx> <crops.u8> <count> <out.f32>
// crops.u8: count × 224 × 224 × 3 bytes (NHWC RGB); out.f32: count × (output size) float32 LE.
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import * as ort from 'onnxruntime-node';

const BATCH = 8;
const CROP_BYTES = 224 * 224 * 3;

async function main(): Promise<void> {
  const [model, cropsPath, countText, outPath] = process.argv.slice(2);
  const count = Number(countText);
  if (!model || !cropsPath || !outPath || !Number.isInteger(count) || count < 1) {
    console.error('usage: npx tsx training/lite/lower-features.ts <lower.onnx> <crops.u8> <count> <out.f32>');
    process.exit(2);
  }
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: 2,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
  });
  const input = session.inputNames[0]!;
  const output = session.outputNames[0]!;
  const fin = openSync(cropsPath, 'r');
  const fout = openSync(outPath, 'w');
  const bytes = Buffer.alloc(BATCH * CROP_BYTES);
  const started = Date.now();
  for (let start = 0; start < count; start += BATCH) {
    const n = Math.min(BATCH, count - start);
    readSync(fin, bytes, 0, n * CROP_BYTES, start * CROP_BYTES);
    const data = new Float32Array(n * CROP_BYTES);
    for (let i = 0; i < n * CROP_BYTES; i++) data[i] = bytes[i]!;
    const out = await session.run({ [input]: new ort.Tensor('float32', data, [n, 224, 224, 3]) });
    const f = out[output]!.data as Float32Array;
    writeSync(fout, new Uint8Array(f.buffer, f.byteOffset, f.byteLength));
    if ((start / BATCH) % 50 === 0) {
      const s = (Date.now() - started) / 1000;
      console.error(`lower-features: ${start + n}/${count} crops, ${((start + n) / s).toFixed(1)} crops/s`);
    }
  }
  closeSync(fin);
  closeSync(fout);
  console.error(`lower-features: ${count} crops in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
