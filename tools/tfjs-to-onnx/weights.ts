// Decodes the weight buffer of a tfjs layers model into float32 arrays, undoing tfjs's
// post-training quantization (value = q * scale + min, as tfjs's own decodeWeights does).
import { ConversionError } from './errors.js';
import type { WeightsManifestGroup } from './layers-json.js';

export interface WeightTensor {
  shape: number[];
  data: Float32Array;
}

const QUANTIZED_BYTES: Record<string, number> = { uint8: 1, uint16: 2 };

/**
 * @throws ConversionError TFJS_TO_ONNX_BAD_WEIGHTS for a dtype/quantization it does not know or a short buffer.
 */
export function decodeWeights(manifest: WeightsManifestGroup[], buffer: Uint8Array): Map<string, WeightTensor> {
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const out = new Map<string, WeightTensor>();
  let offset = 0;
  for (const spec of manifest.flatMap((g) => g.weights)) {
    const count = spec.shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(count);
    const q = spec.quantization;
    if (spec.dtype !== 'float32') {
      throw new ConversionError('TFJS_TO_ONNX_BAD_WEIGHTS', `Weight ${spec.name} has dtype ${spec.dtype}; only float32 weights are supported`);
    }
    let bytes: number;
    if (q === undefined) {
      bytes = count * 4;
      need(spec.name, offset, bytes, buffer.byteLength);
      for (let i = 0; i < count; i++) data[i] = view.getFloat32(offset + 4 * i, true);
    } else {
      const width = QUANTIZED_BYTES[q.dtype];
      if (width === undefined || typeof q.min !== 'number' || typeof q.scale !== 'number') {
        throw new ConversionError(
          'TFJS_TO_ONNX_BAD_WEIGHTS',
          `Weight ${spec.name} uses quantization ${JSON.stringify(q)}; supported: uint8/uint16 with min and scale`,
        );
      }
      bytes = count * width;
      need(spec.name, offset, bytes, buffer.byteLength);
      for (let i = 0; i < count; i++) {
        const v = width === 1 ? view.getUint8(offset + i) : view.getUint16(offset + 2 * i, true);
        data[i] = v * q.scale + q.min;
      }
    }
    offset += bytes;
    out.set(spec.name, { shape: spec.shape, data });
  }
  if (offset !== buffer.byteLength) {
    throw new ConversionError('TFJS_TO_ONNX_BAD_WEIGHTS', `The manifest describes ${offset} bytes but the shards hold ${buffer.byteLength}`);
  }
  return out;
}

function need(name: string, offset: number, bytes: number, total: number): void {
  if (offset + bytes > total) {
    throw new ConversionError('TFJS_TO_ONNX_BAD_WEIGHTS', `Weight ${name} needs bytes ${offset}..${offset + bytes} but the shards hold ${total}`);
  }
}
