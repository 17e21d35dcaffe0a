// Parity of the converted CenterNet (tfjs graph model of @vladmandic/human) with tfjs on a real
// photograph (the shipped detector is this conversion quantized to int8: test/tools/quantize-detector.test.ts),
// and the graph converter's refusal of ops it does not know.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { convertCenternet, findCenternetDir, loadCenternet, resizeCenternetConstants } from '../../tools/tfjs-to-onnx/centernet-source.js';
import { convertGraphModel } from '../../tools/tfjs-to-onnx/convert-graph.js';
import { ConversionError } from '../../tools/tfjs-to-onnx/errors.js';
import { decodeGraphConstants, floatToHalf, halfToFloat, type GraphModelJson } from '../../tools/tfjs-to-onnx/graph-model-json.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const centernetDir = findCenternetDir();
const parity = centernetDir === undefined ? describe.skip : describe;

parity('CenterNet (tfjs graph model) → ONNX parity', () => {
  let onnxBytes: Uint8Array;
  let ortOut: Float32Array;
  let tfOut: Float32Array;

  beforeAll(async () => {
    onnxBytes = (await convertCenternet()).bytes;
    // A real photograph (examples/coffee.png, skimage's coffee cup), stretched to 512² as human does.
    const { data } = await sharp(path.join(ROOT, 'examples/coffee.png')).removeAlpha().resize(512, 512, { fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
    const input = Float32Array.from(data);

    const ort = await import('onnxruntime-node');
    const session = await ort.InferenceSession.create(onnxBytes);
    const result = await session.run({ images: new ort.Tensor('float32', input, [1, 512, 512, 3]) });
    ortOut = result.detections!.data as Float32Array;
    await session.release();

    const tf = await import('@tensorflow/tfjs');
    await tf.setBackend('cpu');
    const source = await loadCenternet();
    const model = await tf.loadGraphModel({
      load: async () => ({
        modelTopology: source.modelJson.modelTopology as never,
        weightSpecs: source.modelJson.weightsManifest.flatMap((g) => g.weights) as never,
        weightData: source.weightData.slice().buffer,
      }),
    });
    const out = model.execute(tf.tensor4d(input, [1, 512, 512, 3]), 'tower_0/detections') as import('@tensorflow/tfjs').Tensor;
    tfOut = (await out.data()) as Float32Array;
    tf.dispose(out);
    model.dispose();
  }, 180_000);

  it('gives the same 100 detections (boxes in pixels, scores, classes) as tfjs', () => {
    expect(ortOut.length).toBe(600);
    let maxBox = 0;
    let maxScore = 0;
    for (let i = 0; i < 100; i++) {
      for (let k = 0; k < 4; k++) maxBox = Math.max(maxBox, Math.abs(ortOut[i * 6 + k]! - tfOut[i * 6 + k]!));
      maxScore = Math.max(maxScore, Math.abs(ortOut[i * 6 + 4]! - tfOut[i * 6 + 4]!));
      expect(ortOut[i * 6 + 5]).toBe(tfOut[i * 6 + 5]);
    }
    expect(maxBox).toBeLessThan(0.01); // pixels of the 512² input
    expect(maxScore).toBeLessThan(1e-4);
    // The photo's cup (COCO index 41) is the top detection: the test sees a real answer.
    expect(ortOut[5]).toBe(41);
    expect(ortOut[4]).toBeGreaterThan(0.3);
  });
});

parity('CenterNet converted for another input size', () => {
  // The detections of examples/coffee.png stretched to `size`², by the conversion for that size.
  async function detect(size: number): Promise<Float32Array> {
    const bytes = (await convertCenternet(undefined, size)).bytes;
    const { data } = await sharp(path.join(ROOT, 'examples/coffee.png')).removeAlpha().resize(size, size, { fit: 'fill' }).raw().toBuffer({ resolveWithObject: true });
    const ort = await import('onnxruntime-node');
    const session = await ort.InferenceSession.create(bytes);
    expect(session.inputMetadata[0]).toMatchObject({ name: 'images', shape: [1, size, size, 3] });
    const out = (await session.run({ images: new ort.Tensor('float32', Float32Array.from(data), [1, size, size, 3]) })).detections!.data as Float32Array;
    await session.release();
    return out;
  }

  it('at 384² finds the cup the 512² graph finds, in the same place (boxes in 384² pixels)', async () => {
    const [a, b] = [await detect(512), await detect(384)];
    expect([a[5], b[5]]).toEqual([41, 41]);
    // The same box in the picture's terms: each side within 5 % of the picture (measured: 0.037 for the
    // bottom edge, ≤ 0.005 for the others; scores 0.466 and 0.459).
    for (let k = 0; k < 4; k++) expect(Math.abs(a[k]! / 512 - b[k]! / 384)).toBeLessThan(0.05);
    expect(b[4]).toBeGreaterThan(0.3);
  }, 120_000);

  it('rewrites only the size-derived constants, and refuses sizes the strides cannot reach', async () => {
    const source = await loadCenternet();
    const constants = decodeGraphConstants(source.modelJson.weightsManifest, source.weightData);
    const before = new Map([...constants].map(([k, v]) => [k, Array.from(v.data).join(',')]));
    resizeCenternetConstants(constants, 320);
    const changed = [...constants].filter(([k, v]) => Array.from(v.data).join(',') !== before.get(k)).map(([k, v]) => [k, Array.from(v.data)]);
    expect(Object.fromEntries(changed)).toEqual({
      'tower_0/CenternetHead/c5_upsample/up_sampling2d/mul': [20, 20],
      'tower_0/CenternetHead/c4_upsample/up_sampling2d_1/mul': [40, 40],
      'tower_0/CenternetHead/c3_upsample/up_sampling2d_2/mul': [80, 80],
      'tower_0/strided_slice_6': [80],
      'tower_0/BatchGather/concat': [6400, 4],
    });
    for (const size of [400, 0, 32.5]) expect(() => resizeCenternetConstants(decodeGraphConstants(source.modelJson.weightsManifest, source.weightData), size)).toThrow(/multiple of 32/);
    // A graph whose constants are not the 512² ones (here: already resized) is refused, not rewritten blindly.
    expect(() => resizeCenternetConstants(constants, 384)).toThrow(/not the graph this converter knows/);
  }, 60_000);
});

describe('graph converter building blocks', () => {
  it('round-trips every finite IEEE half through float32', () => {
    for (let h = 0; h < 0x10000; h++) {
      if (((h >> 10) & 0x1f) === 31) continue; // inf / NaN
      expect(floatToHalf(halfToFloat(h))).toBe(h === 0x8000 ? 0x8000 : h);
    }
    expect(halfToFloat(0x3c00)).toBe(1);
    expect(halfToFloat(0xc000)).toBe(-2);
  });

  it('refuses an op it does not know, naming the node', () => {
    const model: GraphModelJson = {
      format: 'graph-model',
      modelTopology: {
        node: [
          { name: 'x', op: 'Placeholder' },
          { name: 'y', op: 'Softplus', input: ['x'] },
        ],
      },
      weightsManifest: [],
    };
    const run = () => convertGraphModel(model, new Map(), { inputs: [{ name: 'x', shape: [1, 4] }], outputs: [{ tensor: 'y', name: 'y', shape: [1, 4] }] });
    expect(run).toThrow(ConversionError);
    expect(run).toThrow(/Node y: op Softplus is not supported \[TFJS_TO_ONNX_UNSUPPORTED_LAYER\]/);
  });

  it('refuses int8-quantized constants', () => {
    const manifest = [{ paths: ['w.bin'], weights: [{ name: 'w', shape: [2], dtype: 'float32', quantization: { dtype: 'uint8', min: 0, scale: 1 } }] }];
    expect(() => decodeGraphConstants(manifest, new Uint8Array(2))).toThrow(/supported: float32 \(plain or float16\) and int32/);
  });
});
