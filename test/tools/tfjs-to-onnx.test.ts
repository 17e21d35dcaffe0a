// Parity of the converted nsfwjs MobileNetV2 with the original tfjs layers model, and the
// converter's refusal of layers it does not understand.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConversionError,
  convertLayersModel,
  convertNsfwjsMobilenet,
  decodeWeights,
  findNsfwjsMobilenetDir,
  loadNsfwjsMobilenet,
  MOBILENET_FEATURE_LAYER,
  type KerasLayer,
  type LayersModelJson,
  type WeightTensor,
} from '../../tools/tfjs-to-onnx/index.js';
import { seededRandom } from '../../src/evaluation/datasets.js';

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

const nsfwjsDir = findNsfwjsMobilenetDir();

const parity = nsfwjsDir === undefined ? describe.skip : describe;
const parityTitle =
  nsfwjsDir === undefined
    ? 'nsfwjs MobileNetV2 → ONNX parity (skipped: the npm package nsfwjs cannot be resolved)'
    : 'nsfwjs MobileNetV2 → ONNX parity';

parity(parityTitle, () => {
  const size = 224;
  const batch = 4;
  let dir: string;
  let onnxFile: string;
  let summary: Awaited<ReturnType<typeof convertNsfwjsMobilenet>>['summary'];
  let input: Float32Array;
  let ortOut: Record<string, Float32Array>;
  let tfOut: { spatial: Float32Array; pooled: Float32Array; probabilities: Float32Array };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'tfjs-to-onnx-'));
    onnxFile = path.join(dir, 'mobilenet_v2.onnx');
    const converted = await convertNsfwjsMobilenet();
    summary = converted.summary;
    await writeFile(onnxFile, converted.bytes);

    // Three random images and one constant mid-grey image, in nsfwjs's scaling (pixel / 255).
    const next = seededRandom(1234); // deterministic, so failures reproduce
    const per = size * size * 3;
    input = new Float32Array(batch * per);
    for (let i = 0; i < 3 * per; i++) input[i] = Math.round(next() * 255) / 255;
    input.fill(128 / 255, 3 * per);

    const ort = await import('onnxruntime-node');
    const session = await ort.InferenceSession.create(onnxFile);
    const result = await session.run({ input: new ort.Tensor('float32', input, [batch, size, size, 3]) });
    ortOut = Object.fromEntries(Object.entries(result).map(([k, v]) => [k, v.data as Float32Array]));
    await session.release();

    const tf = await import('@tensorflow/tfjs');
    await tf.setBackend('cpu');
    const source = await loadNsfwjsMobilenet();
    const artifacts = {
      modelTopology: source.modelJson.modelTopology as unknown as object,
      weightSpecs: source.modelJson.weightsManifest.flatMap((g) => g.weights) as never,
      weightData: source.weightData.slice().buffer,
    };
    const model = await tf.loadLayersModel({ load: async () => artifacts });
    // One pass gives the feature map, tfjs's own pooling and the classifier output.
    const probe = tf.model({
      inputs: model.inputs,
      outputs: [MOBILENET_FEATURE_LAYER, 'flatten_1'].map((n) => model.getLayer(n).output as never).concat(model.outputs as never),
    });
    const outs = probe.predict(tf.tensor4d(input, [batch, size, size, 3])) as import('@tensorflow/tfjs').Tensor[];
    const [spatial, pooled, probabilities] = await Promise.all(outs.map((t) => t.data() as Promise<Float32Array>));
    tfOut = { spatial: spatial!, pooled: pooled!, probabilities: probabilities! };
    tf.dispose(outs);
    model.dispose();
  });

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('declares NHWC input and the three outputs with a dynamic batch', () => {
    expect(summary.input).toEqual({ name: 'input', dims: ['N', 224, 224, 3] });
    expect(summary.outputs).toEqual([
      { name: 'pooled', dims: ['N', 1280] },
      { name: 'spatial', dims: ['N', 7, 7, 1280] },
      { name: 'probabilities', dims: ['N', 5] },
    ]);
    expect(summary.foldedBatchNorms).toBe(52);
    expect(summary.foldedPads).toBe(5);
  });

  it('matches tfjs on the 7x7x1280 feature map (NHWC)', () => {
    expect(ortOut.spatial!.length).toBe(batch * 7 * 7 * 1280);
    expect(maxAbsDiff(ortOut.spatial!, tfOut.spatial)).toBeLessThanOrEqual(1e-4);
  });

  it('matches tfjs on the pooled features', () => {
    expect(maxAbsDiff(ortOut.pooled!, tfOut.pooled)).toBeLessThanOrEqual(1e-4);
  });

  it('matches tfjs on the classifier probabilities', () => {
    expect(maxAbsDiff(ortOut.probabilities!, tfOut.probabilities)).toBeLessThanOrEqual(1e-4);
    // A test that cannot fail is no test: the images must not all give the same answer.
    const first = ortOut.probabilities!.subarray(0, 5);
    const last = ortOut.probabilities!.subarray(15, 20);
    expect(maxAbsDiff(first, last)).toBeGreaterThan(1e-3);
  });

  it('keeps the file lean: fp32 raw initializers, no unused weights', async () => {
    const bytes = await readFile(onnxFile);
    // 2.57 M parameters x 4 bytes plus a few KB of graph.
    expect(summary.parameterCount).toBeGreaterThan(2_500_000);
    expect(bytes.byteLength).toBeLessThan(summary.parameterCount * 4 + 200_000);
  });
});

/** A two-layer model in the same JSON shape as nsfwjs's, with made-up weights. */
function tinyModel(extra?: KerasLayer): { json: LayersModelJson; weights: Map<string, WeightTensor> } {
  const layers: KerasLayer[] = [
    { name: 'in', class_name: 'InputLayer', config: { batch_input_shape: [null, 4, 4, 2], dtype: 'float32' }, inbound_nodes: [] },
    {
      name: 'conv',
      class_name: 'Conv2D',
      config: { filters: 3, kernel_size: [1, 1], strides: [1, 1], padding: 'valid', data_format: 'channels_last', activation: 'linear', use_bias: false },
      inbound_nodes: [[['conv_in', 0, 0, {}]]],
    },
    { name: 'gap', class_name: 'GlobalAveragePooling2D', config: { data_format: 'channels_last' }, inbound_nodes: [[['conv', 0, 0, {}]]] },
  ];
  const head: KerasLayer = extra ?? { name: 'conv_in', class_name: 'Dropout', config: { rate: 0.1 }, inbound_nodes: [[['in', 0, 0, {}]]] };
  layers.splice(1, 0, { ...head, name: 'conv_in', inbound_nodes: [[['in', 0, 0, {}]]] });
  const json: LayersModelJson = {
    modelTopology: {
      model_config: { class_name: 'Model', config: { name: 'tiny', layers, input_layers: [['in', 0, 0]], output_layers: [['gap', 0, 0]] } },
    },
    weightsManifest: [{ paths: [], weights: [{ name: 'conv/kernel', shape: [1, 1, 2, 3], dtype: 'float32' }] }],
  };
  return { json, weights: new Map([['conv/kernel', { shape: [1, 1, 2, 3], data: Float32Array.from([1, 2, 3, 4, 5, 6]) }]]) };
}

describe('convertLayersModel on a hand-made model', () => {
  it('converts a supported tiny model', () => {
    const { json, weights } = tinyModel();
    const { summary } = convertLayersModel(json, weights, { featureLayer: 'conv' });
    expect(summary.outputs.map((o) => o.name)).toEqual(['pooled', 'spatial', 'probabilities']);
    expect(summary.outputs[1]!.dims).toEqual(['N', 4, 4, 3]);
  });

  it('refuses an unsupported layer type and names the layer', () => {
    const { json, weights } = tinyModel({ name: 'x', class_name: 'SeparableConv2D', config: {}, inbound_nodes: [] });
    expect(() => convertLayersModel(json, weights, { featureLayer: 'conv' })).toThrow(
      expect.objectContaining({
        code: 'TFJS_TO_ONNX_UNSUPPORTED_LAYER',
        message: expect.stringContaining('Layer conv_in has type SeparableConv2D'),
      }),
    );
  });

  it('refuses an unsupported option of a supported layer and names the layer', () => {
    const { json, weights } = tinyModel({ name: 'x', class_name: 'ReLU', config: { max_value: 6, negative_slope: 0.1 }, inbound_nodes: [] });
    const run = () => convertLayersModel(json, weights, { featureLayer: 'conv' });
    expect(run).toThrow(ConversionError);
    expect(run).toThrow(/Layer conv_in \(ReLU\): negative_slope 0\.1/);
  });

  it('refuses a model whose weights it would not use', () => {
    const { json, weights } = tinyModel();
    weights.set('mystery/kernel', { shape: [1], data: Float32Array.of(1) });
    expect(() => convertLayersModel(json, weights, { featureLayer: 'conv' })).toThrow(/did not use these weights.*mystery\/kernel/);
  });

  it('dequantizes uint8 weights as q * scale + min', () => {
    const decoded = decodeWeights(
      [{ paths: [], weights: [{ name: 'w', shape: [3], dtype: 'float32', quantization: { dtype: 'uint8', min: -1, scale: 0.5 } }] }],
      Uint8Array.of(0, 2, 255),
    );
    expect([...decoded.get('w')!.data]).toEqual([-1, 0, 126.5]);
  });
});
