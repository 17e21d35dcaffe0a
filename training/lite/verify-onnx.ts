// Checks the exported lite quality model in onnxruntime-node against the PyTorch outputs that
// export.py recorded, using the runtime's own crop code (src/model/lite-crops.ts), so the Python
// crop plan, the ONNX graph and the TypeScript input preparation are verified together.
//   npx tsx training/lite/verify-onnx.ts models/lite/quality.onnx.reference.json
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import sharp from 'sharp';
import { cropTensor } from '../../src/model/lite-crops.js';

interface Case {
  image: string;
  crops: number;
  signals: number[];
  quality_logits: number[];
  quality_mos: number;
  pooled_head: number[];
  spatial_sum: number;
}

const TOLERANCE = 1e-4;

async function main(): Promise<void> {
  const refPath = process.argv[2];
  if (!refPath) {
    console.error('usage: npx tsx training/lite/verify-onnx.ts <model.onnx.reference.json>');
    process.exit(2);
  }
  const ref = JSON.parse(readFileSync(refPath, 'utf8')) as { onnx: string; cases: Case[] };
  const session = await ort.InferenceSession.create(ref.onnx, { intraOpNumThreads: 2 });
  let worst = 0;
  for (const c of ref.cases) {
    const { data, info } = await sharp(c.image).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
    const image = { rgb: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
    const crops = cropTensor(image, c.crops, 224);
    const out = await session.run({
      crops: new ort.Tensor('float32', crops.data, crops.dims),
      signals: new ort.Tensor('float32', Float32Array.from(c.signals), [1, c.signals.length]),
    });
    const logits = out.quality_logits!.data as Float32Array;
    const mos = (out.quality_mos!.data as Float32Array)[0]!;
    const pooled = out.pooled!.data as Float32Array;
    const spatial = out.spatial!.data as Float32Array;
    if (out.quality_logits!.dims.join() !== '1,5' || out.pooled!.dims.join() !== '1,1280' ||
        out.spatial!.dims.join() !== `${c.crops},1280,7,7` || out.quality_mos!.dims.join() !== '1') {
      throw new Error(`unexpected output shapes: ${Object.entries(out).map(([k, v]) => `${k} [${v.dims.join(',')}]`).join(', ')}`);
    }
    let spatialSum = 0;
    for (const v of spatial) spatialSum += v;
    const diffs = [
      ...c.quality_logits.map((v, i) => Math.abs(v - logits[i]!)),
      Math.abs(c.quality_mos - mos),
      ...c.pooled_head.map((v, i) => Math.abs(v - pooled[i]!)),
      Math.abs(c.spatial_sum - spatialSum) / Math.max(1, Math.abs(c.spatial_sum)),
    ];
    const d = Math.max(...diffs);
    worst = Math.max(worst, d);
    console.log(`${c.image.split('/').slice(-2).join('/')}: mos torch ${c.quality_mos.toFixed(5)} ort ${mos.toFixed(5)}  max|diff| ${d.toExponential(2)}`);
  }
  console.log(`worst max|diff| ${worst.toExponential(2)} over ${ref.cases.length} images (tolerance ${TOLERANCE})`);
  if (!(worst <= TOLERANCE)) process.exit(1);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
