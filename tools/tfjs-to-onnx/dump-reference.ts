// Writes a deterministic input batch and onnxruntime's outputs for it as raw little-endian float32
// files plus reference.json (shapes), so training/lite/check_port.py can compare the PyTorch port:
//   npx tsx tools/tfjs-to-onnx/dump-reference.ts --model training/data/mobilenet_v2.onnx --out-dir <dir>
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';

/** Deterministic pixels in nsfwjs's scaling (k/255): a smooth gradient plus hashed noise, per image. */
export function referenceInput(batch: number, size = 224): Float32Array {
  const out = new Float32Array(batch * size * size * 3);
  let state = 0x9e3779b9;
  for (let n = 0; n < batch; n++)
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++)
        for (let c = 0; c < 3; c++) {
          state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
          const smooth = ((x * (c + 1) + y * (n + 2)) % 256) / 255;
          const noise = (state >>> 24) / 255;
          out[((n * size + y) * size + x) * 3 + c] = Math.round(255 * (0.6 * smooth + 0.4 * noise)) / 255;
        }
  return out;
}

export async function dumpReference(modelFile: string, outDir: string, batch = 2): Promise<Record<string, number[]>> {
  const size = 224;
  const input = referenceInput(batch, size);
  const session = await ort.InferenceSession.create(modelFile);
  const result = await session.run({ input: new ort.Tensor('float32', input, [batch, size, size, 3]) });
  await mkdir(outDir, { recursive: true });
  const shapes: Record<string, number[]> = { input: [batch, size, size, 3] };
  const write = (name: string, data: Float32Array) =>
    writeFile(path.join(outDir, `${name}.f32`), new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  await write('input', input);
  for (const [name, tensor] of Object.entries(result)) {
    shapes[name] = tensor.dims.map(Number);
    await write(name, tensor.data as Float32Array);
  }
  await writeFile(path.join(outDir, 'reference.json'), JSON.stringify({ model: path.resolve(modelFile), dtype: 'float32', endian: 'little', shapes }, null, 2));
  await session.release();
  return shapes;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  const { values } = parseArgs({ options: { model: { type: 'string' }, 'out-dir': { type: 'string' }, batch: { type: 'string', default: '2' } } });
  if (values.model === undefined || values['out-dir'] === undefined) {
    process.stderr.write('usage: npx tsx tools/tfjs-to-onnx/dump-reference.ts --model <file.onnx> --out-dir <dir> [--batch 2]\n');
    process.exit(2);
  }
  const shapes = await dumpReference(values.model, values['out-dir'], Number(values.batch));
  process.stdout.write(`wrote ${Object.keys(shapes).join(', ')} to ${values['out-dir']}\n`);
}
