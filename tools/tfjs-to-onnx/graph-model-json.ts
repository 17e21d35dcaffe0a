// Types of a tfjs graph-model JSON (a frozen TF GraphDef as JSON plus a weights manifest) and the
// decoding of its constants: float32 (plain or float16-quantized) and int32.
import { ConversionError } from './errors.js';
import type { WeightsManifestGroup } from './layers-json.js';

/** A TF AttrValue as tfjs writes it: one of these keys, strings base64-encoded. */
export interface TfAttr {
  s?: string;
  i?: string;
  f?: number;
  b?: boolean;
  type?: string;
  list?: { s?: string[]; i?: string[]; f?: number[] };
  shape?: unknown;
}

export interface TfNode {
  name: string;
  op: string;
  input?: string[];
  attr?: Record<string, TfAttr>;
}

export interface GraphModelJson {
  format: 'graph-model';
  modelTopology: { node: TfNode[] };
  weightsManifest: WeightsManifestGroup[];
  signature?: { inputs?: Record<string, unknown>; outputs?: Record<string, unknown> };
}

export interface GraphConstant {
  shape: number[];
  dtype: 'float32' | 'int32';
  data: Float32Array | Int32Array;
  /** The IEEE half bits when the file stored the tensor as float16 (so the ONNX file can too). */
  halfBits?: Uint16Array;
}

/** IEEE 754 half → float32, as tfjs's float16 dequantization does. */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac === 0 ? sign * Infinity : NaN;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}

/**
 * Decodes every constant of the manifest from the concatenated shards.
 * @throws ConversionError TFJS_TO_ONNX_BAD_WEIGHTS for an unknown dtype/quantization or a short buffer.
 */
export function decodeGraphConstants(manifest: WeightsManifestGroup[], buffer: Uint8Array): Map<string, GraphConstant> {
  const view = new DataView(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  const out = new Map<string, GraphConstant>();
  let offset = 0;
  for (const spec of manifest.flatMap((g) => g.weights)) {
    const count = spec.shape.reduce((a, b) => a * b, 1);
    const q = spec.quantization;
    const width = spec.dtype === 'int32' ? 4 : q === undefined ? 4 : q.dtype === 'float16' ? 2 : 0;
    if ((spec.dtype !== 'float32' && spec.dtype !== 'int32') || width === 0 || (spec.dtype === 'int32' && q !== undefined)) {
      throw new ConversionError(
        'TFJS_TO_ONNX_BAD_WEIGHTS',
        `Constant ${spec.name} is ${spec.dtype} with quantization ${JSON.stringify(q ?? null)}; supported: float32 (plain or float16) and int32`,
      );
    }
    const bytes = count * width;
    if (offset + bytes > buffer.byteLength) {
      throw new ConversionError('TFJS_TO_ONNX_BAD_WEIGHTS', `Constant ${spec.name} needs bytes ${offset}..${offset + bytes} but the shards hold ${buffer.byteLength}`);
    }
    if (spec.dtype === 'int32') {
      const data = new Int32Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getInt32(offset + 4 * i, true);
      out.set(spec.name, { shape: spec.shape, dtype: 'int32', data });
    } else if (width === 2) {
      const halfBits = new Uint16Array(count);
      const data = new Float32Array(count);
      for (let i = 0; i < count; i++) {
        halfBits[i] = view.getUint16(offset + 2 * i, true);
        data[i] = halfToFloat(halfBits[i]!);
      }
      out.set(spec.name, { shape: spec.shape, dtype: 'float32', data, halfBits });
    } else {
      const data = new Float32Array(count);
      for (let i = 0; i < count; i++) data[i] = view.getFloat32(offset + 4 * i, true);
      out.set(spec.name, { shape: spec.shape, dtype: 'float32', data });
    }
    offset += bytes;
  }
  if (offset !== buffer.byteLength) {
    throw new ConversionError('TFJS_TO_ONNX_BAD_WEIGHTS', `The manifest describes ${offset} bytes but the shards hold ${buffer.byteLength}`);
  }
  return out;
}

/** float32 → IEEE half bits (round to nearest even); exact for values that came from halves. */
export function floatToHalf(v: number): number {
  const f = new Float32Array([v]);
  const x = new Uint32Array(f.buffer)[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = ((x >>> 23) & 0xff) - 127 + 15;
  const mant = x & 0x7fffff;
  if (((x >>> 23) & 0xff) === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  if (exp >= 31) return sign | 0x7c00;
  if (exp <= 0) {
    if (exp < -10) return sign;
    const m = (mant | 0x800000) >>> (1 - exp);
    return sign | ((m + 0xfff + ((m >>> 13) & 1)) >>> 13);
  }
  const rounded = (exp << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  return sign | (rounded + (rest > 0x1000 || (rest === 0x1000 && (rounded & 1)) ? 1 : 0));
}
