// Parity of the converted CenterNet (tfjs graph model of @vladmandic/human) with tfjs on a real
// photograph (the shipped detector is this conversion quantized to int8: test/tools/quantize-detector.test.ts),
// and the graph converter's refusal of ops it does not know.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { convertCenternet, findCenternetDir, loadCenternet } from '../../tools/tfjs-to-onnx/centernet-source.js';
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
