// The MobileNetV3 CenterNet (COCO, 80 classes) that ships as a tfjs graph model in the npm package
// @vladmandic/human: locate it, read it, convert it to ONNX with its decode tail (heat-map peaks,
// top 100, boxes) so the ONNX output is the tfjs output `tower_0/detections` [1,100,6].
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { convertGraphModel } from './convert-graph.js';
import { ConversionError } from './errors.js';
import { decodeGraphConstants, type GraphConstant, type GraphModelJson } from './graph-model-json.js';

export const CENTERNET_INPUT = 'tower_0/images';
export const CENTERNET_OUTPUT = 'tower_0/detections';
/** The input size the model was trained and published at. */
export const CENTERNET_SIZE = 512;
// The backbone strides to 1/32 and the head upsamples back to 1/4; the tfjs graph froze the sizes that
// follow from 512 (feature maps 32/64/128, 128² heat-map cells) as constants around the upsampling and the
// peak decoding. The convolutions themselves take any size: these are all that changes with it.
const SIZE_CONSTANTS: Record<string, (s: number) => number[]> = {
  'tower_0/CenternetHead/c5_upsample/up_sampling2d/mul': (s) => [s / 16, s / 16],
  'tower_0/CenternetHead/c4_upsample/up_sampling2d_1/mul': (s) => [s / 8, s / 8],
  'tower_0/CenternetHead/c3_upsample/up_sampling2d_2/mul': (s) => [s / 4, s / 4],
  'tower_0/strided_slice_6': (s) => [s / 4], // heat-map width: a peak's flat index → row, column
  'tower_0/BatchGather/concat': (s) => [(s / 4) * (s / 4), 4], // the size map as [cells, 4] for the gather
};

/** Directory holding centernet.json/.bin, or undefined when @vladmandic/human is not installed. */
export function findCenternetDir(fromDir: string = process.cwd()): string | undefined {
  const require = createRequire(path.join(fromDir, 'noop.js'));
  let entry: string;
  try {
    // The package's "exports" hides package.json: resolve its entry and walk up to the package root.
    entry = require.resolve('@vladmandic/human');
  } catch {
    return undefined;
  }
  for (let dir = path.dirname(entry); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json')) && existsSync(path.join(dir, 'models', 'centernet.json'))) return path.join(dir, 'models');
  }
  return undefined;
}

export interface GraphModelSource {
  modelJson: GraphModelJson;
  weightData: Uint8Array;
  origin: string;
  version: string | undefined;
}

/**
 * Reads centernet.json and its shards from `dir` (default: the installed @vladmandic/human).
 * @throws ConversionError TFJS_TO_ONNX_SOURCE_NOT_FOUND when the package or a file is missing.
 */
export async function loadCenternet(dir?: string): Promise<GraphModelSource> {
  const modelDir = dir ?? findCenternetDir();
  if (modelDir === undefined) {
    throw new ConversionError('TFJS_TO_ONNX_SOURCE_NOT_FOUND', 'Cannot resolve the npm package @vladmandic/human; install the devDependencies (npm ci) or pass the model directory');
  }
  try {
    const modelJson = JSON.parse(await readFile(path.join(modelDir, 'centernet.json'), 'utf8')) as GraphModelJson;
    if (modelJson.format !== 'graph-model') throw new ConversionError('TFJS_TO_ONNX_BAD_MODEL', 'centernet.json is not a tfjs graph model');
    const shards = await Promise.all(modelJson.weightsManifest.flatMap((g) => g.paths).map((p) => readFile(path.join(modelDir, p))));
    let version: string | undefined;
    const pkg = path.join(modelDir, '..', 'package.json');
    if (existsSync(pkg)) version = (JSON.parse(await readFile(pkg, 'utf8')) as { version?: string }).version;
    return { modelJson, weightData: new Uint8Array(Buffer.concat(shards)), origin: modelDir, version };
  } catch (cause) {
    if (cause instanceof ConversionError) throw cause;
    throw new ConversionError('TFJS_TO_ONNX_SOURCE_NOT_FOUND', `Cannot read the CenterNet graph model in ${modelDir}`, { cause });
  }
}

/**
 * Rewrites the size-derived constants of the decoded graph for a `size`² input (a multiple of 32).
 * @throws ConversionError TFJS_TO_ONNX_BAD_MODEL when a constant is missing or does not hold its 512² value
 * (another release of the model: its graph would need its own table).
 */
export function resizeCenternetConstants(constants: Map<string, GraphConstant>, size: number): void {
  if (!Number.isInteger(size) || size < 64 || size % 32 !== 0) {
    throw new ConversionError('TFJS_TO_ONNX_UNSUPPORTED_OPTION', `CenterNet input size ${size}: a multiple of 32, at least 64`);
  }
  for (const [name, valuesAt] of Object.entries(SIZE_CONSTANTS)) {
    const c = constants.get(name);
    const expected = valuesAt(CENTERNET_SIZE);
    if (c === undefined || c.dtype !== 'int32' || Array.from(c.data).join(',') !== expected.join(',')) {
      throw new ConversionError('TFJS_TO_ONNX_BAD_MODEL', `CenterNet constant ${name} is not [${expected}]: not the graph this converter knows`);
    }
    constants.set(name, { ...c, data: Int32Array.from(valuesAt(size)) });
  }
}

/** Converts the CenterNet to ONNX: input `images` [1,size,size,3] RGB 0..255, output `detections` [1,100,6] (boxes in input pixels). */
export async function convertCenternet(dir?: string, size: number = CENTERNET_SIZE) {
  const source = await loadCenternet(dir);
  const constants = decodeGraphConstants(source.modelJson.weightsManifest, source.weightData);
  resizeCenternetConstants(constants, size);
  const result = convertGraphModel(source.modelJson, constants, {
    inputs: [{ name: CENTERNET_INPUT, shape: [1, size, size, 3], onnxName: 'images' }],
    outputs: [{ tensor: CENTERNET_OUTPUT, name: 'detections', shape: [1, 100, 6] }],
  });
  return { ...result, origin: source.origin, version: source.version };
}
