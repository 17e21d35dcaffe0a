// Public surface of the tfjs→ONNX converter used by the CLI, the reference dump, tests and the bench.
import { convertLayersModel, type ConversionSummary } from './convert.js';
import { loadNsfwjsMobilenet } from './nsfwjs-source.js';
import { decodeWeights } from './weights.js';

export { convertLayersModel, OPSET, type ConversionResult, type ConversionSummary, type ConvertOptions } from './convert.js';
export { ConversionError, type ConversionErrorCode } from './errors.js';
export { findNsfwjsMobilenetDir, loadNsfwjsMobilenet, type LayersModelSource } from './nsfwjs-source.js';
export { decodeWeights, type WeightTensor } from './weights.js';
export type { KerasLayer, LayersModelJson, WeightSpec } from './layers-json.js';

/** The layer whose output nsfwjs's MobileNetV2 globally averages: the last 7x7x1280 map after ReLU6. */
export const MOBILENET_FEATURE_LAYER = 'out_relu';

/**
 * Loads nsfwjs's MobileNetV2 (from `modelDir` or the installed package) and converts it.
 * @throws ConversionError when the source is missing or the model holds something unsupported.
 */
export async function convertNsfwjsMobilenet(opts: { modelDir?: string; featureLayer?: string } = {}): Promise<{
  bytes: Uint8Array;
  summary: ConversionSummary;
  origin: string;
}> {
  const source = await loadNsfwjsMobilenet(opts.modelDir);
  const weights = decodeWeights(source.modelJson.weightsManifest, source.weightData);
  const { bytes, summary } = convertLayersModel(source.modelJson, weights, {
    featureLayer: opts.featureLayer ?? MOBILENET_FEATURE_LAYER,
  });
  return { bytes, summary, origin: source.origin };
}
