// Converts a tfjs graph model (frozen TF ops) into an ONNX graph (opset 18), op by op. Feature maps
// run in NCHW inside the graph (onnxruntime's fast CPU path): a 4-D NHWC tensor is transposed once
// when a layout-aware op (convolution, pooling, resize, mean) first reads it, and back when an op
// that depends on the element order (Reshape, StridedSlice…) does. Only the ops and options handled
// in `convertNode` are supported; anything else is an error naming the node, never a different graph.
import { ConversionError } from './errors.js';
import { floatToHalf, type GraphConstant, type GraphModelJson, type TfAttr, type TfNode } from './graph-model-json.js';
import { OnnxGraph, type ValueShape } from './onnx-graph.js';

export const GRAPH_OPSET = 18;

export interface GraphConvertOptions {
  /** Graph inputs with their static NHWC shapes (the batch is fixed, as the TF graph fixes it). */
  inputs: { name: string; shape: number[]; onnxName?: string }[];
  /** TF tensors that become graph outputs, with the public name and static shape of each. */
  outputs: { tensor: string; name: string; shape: number[] }[];
  /** Float constants with at least this many elements are stored as float16 when the source was float16. */
  halfMinElements?: number;
}

type Layout = 'nchw' | 'nhwc' | 'other';
type DType = 'float' | 'int' | 'bool';

interface Value {
  tensor: string;
  layout: Layout;
  dtype: DType;
}

const TO_NCHW = [0, 3, 1, 2];
const TO_NHWC = [0, 2, 3, 1];
const ONNX_TYPE = { float: 1, int: 7, bool: 9 } as const;

const unsupported = (node: TfNode, detail: string) =>
  new ConversionError('TFJS_TO_ONNX_UNSUPPORTED_OPTION', `Node ${node.name} (${node.op}): ${detail}`);

const str = (a: TfAttr | undefined) => (a?.s === undefined ? undefined : Buffer.from(a.s, 'base64').toString('utf8'));
const ints = (a: TfAttr | undefined) => (a?.list?.i ?? []).map(Number);

/**
 * Converts `model` with its decoded constants to ONNX bytes.
 * @throws ConversionError for an unsupported op or option, a missing constant, or an unknown output.
 */
export function convertGraphModel(model: GraphModelJson, constants: Map<string, GraphConstant>, options: GraphConvertOptions) {
  return new GraphConverter(model, constants, options).run();
}

class GraphConverter {
  private readonly g = new OnnxGraph();
  private readonly values = new Map<string, Value>();
  private readonly transposed = new Map<string, string>();
  private readonly nodes: Map<string, TfNode>;

  constructor(
    private readonly model: GraphModelJson,
    private readonly constants: Map<string, GraphConstant>,
    private readonly options: GraphConvertOptions,
  ) {
    const list = model?.modelTopology?.node;
    if (!Array.isArray(list)) throw new ConversionError('TFJS_TO_ONNX_BAD_MODEL', 'modelTopology.node is missing');
    this.nodes = new Map(list.map((n) => [n.name, n]));
  }

  run() {
    for (const input of this.options.inputs) {
      if (this.nodes.get(input.name)?.op !== 'Placeholder') throw new ConversionError('TFJS_TO_ONNX_BAD_MODEL', `Input ${input.name} is not a Placeholder of the graph`);
      const tensor = input.onnxName ?? input.name;
      if (this.g.freshName(tensor) !== tensor) throw new ConversionError('TFJS_TO_ONNX_BAD_MODEL', `Input name ${tensor} is used twice`);
      this.values.set(`${input.name}:0`, { tensor, layout: input.shape.length === 4 ? 'nhwc' : 'other', dtype: 'float' });
    }
    const outputs: ValueShape[] = [];
    for (const out of this.options.outputs) {
      const v = this.value(out.tensor);
      const t = v.layout === 'nchw' ? this.as(v, 'nhwc') : v.tensor;
      if (v.dtype !== 'float') throw new ConversionError('TFJS_TO_ONNX_BAD_MODEL', `Output ${out.tensor} is not float`);
      if (this.g.node('Identity', [t], {}, out.name) !== out.name) throw new ConversionError('TFJS_TO_ONNX_BAD_MODEL', `Output name ${out.name} is taken`);
      outputs.push({ name: out.name, dims: out.shape });
    }
    const encoded = this.g.encode({
      graphName: 'graph_model',
      opset: GRAPH_OPSET,
      inputs: this.options.inputs.map((i) => ({ name: i.onnxName ?? i.name, dims: i.shape })),
      outputs,
      producer: 'm3-agiqa tfjs-to-onnx (graph model)',
      docString: 'inputs NHWC float32 as the tfjs graph model takes them',
    });
    return { bytes: encoded.bytes, summary: { nodeCount: encoded.nodeCount, initializerCount: encoded.initializerCount, parameterCount: encoded.parameterCount } };
  }

  /** The converted value of TF tensor reference `ref` ("node" or "node:k"), converting its producer on first use. */
  private value(ref: string): Value {
    const key = ref.includes(':') ? ref : `${ref}:0`;
    const known = this.values.get(ref) ?? this.values.get(key);
    if (known !== undefined) return known;
    const [nodeName, index] = key.split(':') as [string, string];
    const node = this.nodes.get(nodeName);
    if (node === undefined) throw new ConversionError('TFJS_TO_ONNX_BAD_MODEL', `Tensor ${ref} has no producing node`);
    const outs = this.convertNode(node);
    outs.forEach((v, i) => this.values.set(`${nodeName}:${i}`, v));
    const v = outs[Number(index)];
    if (v === undefined) throw new ConversionError('TFJS_TO_ONNX_BAD_MODEL', `Node ${nodeName} has no output ${index}`);
    return v;
  }

  private constant(ref: string, node: TfNode): GraphConstant {
    const c = this.constants.get(ref.split(':')[0]!);
    if (c === undefined) throw unsupported(node, `input ${ref} must be a constant of the weights manifest`);
    return c;
  }

  private intList(ref: string, node: TfNode): number[] {
    const c = this.constant(ref, node);
    if (c.dtype !== 'int32') throw unsupported(node, `input ${ref} must be an int32 constant`);
    return Array.from(c.data);
  }

  /** `v` in layout `to` (NCHW↔NHWC by one shared Transpose). */
  private as(v: Value, to: 'nchw' | 'nhwc'): string {
    if (v.layout === to || v.layout === 'other') return v.tensor;
    const key = `${v.tensor}>${to}`;
    let t = this.transposed.get(key);
    if (t === undefined) {
      t = this.g.node('Transpose', [v.tensor], { perm: to === 'nchw' ? TO_NCHW : TO_NHWC }, `${v.tensor}_${to}`);
      this.transposed.set(key, t);
    }
    return t;
  }

  /** A constant as an ONNX initializer, reshaped to broadcast against an NCHW map when `nchw`. */
  private constTensor(name: string, c: GraphConstant, nchw: boolean): Value {
    let dims = c.shape;
    if (nchw) {
      if (c.shape.length === 1) dims = [c.shape[0]!, 1, 1];
      else if (c.shape.length > 1 && c.shape.some((d) => d !== 1)) throw new ConversionError('TFJS_TO_ONNX_UNSUPPORTED_OPTION', `Constant ${name} of shape [${c.shape}] meets an NCHW map`);
      else if (c.shape.length > 1) dims = c.shape.slice(); // all ones: broadcasts in any layout
    }
    if (c.dtype === 'int32') return { tensor: this.g.addInt64(name, dims, Array.from(c.data)), layout: 'other', dtype: 'int' };
    return { tensor: this.floatInit(name, dims, c), layout: 'other', dtype: 'float' };
  }

  private floatInit(name: string, dims: number[], c: GraphConstant, data: Float32Array = c.data as Float32Array): string {
    const half = c.halfBits !== undefined && data.length >= (this.options.halfMinElements ?? 256);
    if (!half) return this.g.addFloat(name, dims, data);
    const bits = new Uint16Array(data.length);
    for (let i = 0; i < data.length; i++) bits[i] = floatToHalf(data[i]!);
    return this.g.node('Cast', [this.g.addFloat16(`${name}_f16`, dims, bits)], { to: 1 }, name);
  }

  /** Operand `ref` of an elementwise op whose other operands have layout `layout`. */
  private operand(ref: string, node: TfNode, layout: Layout): Value {
    const c = this.constants.get(ref.split(':')[0]!);
    if (c !== undefined && this.nodes.get(ref.split(':')[0]!)?.op === 'Const') return this.constTensor(ref, c, layout === 'nchw');
    const v = this.value(ref);
    if (layout === 'nchw' && v.layout === 'other') throw unsupported(node, `operand ${ref} has unknown layout next to a feature map`);
    return { ...v, tensor: layout === 'nchw' ? this.as(v, 'nchw') : v.tensor, layout: v.layout === 'other' ? 'other' : layout };
  }

  private dataInputs(node: TfNode): string[] {
    return (node.input ?? []).filter((i) => !i.startsWith('^'));
  }

  private convertNode(node: TfNode): Value[] {
    const ins = this.dataInputs(node);
    const a = node.attr ?? {};
    const out = (tensor: string, layout: Layout, dtype: DType = 'float'): Value[] => [{ tensor, layout, dtype }];
    const hint = node.name.replace(/[^A-Za-z0-9_]/g, '_');
    switch (node.op) {
      case 'Const':
        return [this.constTensor(node.name, this.constant(node.name, node), false)];
      case 'Identity': {
        return [this.value(ins[0]!)];
      }
      case '_FusedConv2D':
      case 'Conv2D':
      case 'FusedDepthwiseConv2dNative':
      case 'DepthwiseConv2dNative':
        return out(this.conv(node, ins, hint), 'nchw');
      case 'Add':
      case 'AddV2':
      case 'Mul':
      case 'Sub':
      case 'FloorDiv':
      case 'FloorMod':
      case 'Equal': {
        const vals = ins.map((r) => (this.nodes.get(r.split(':')[0]!)?.op === 'Const' ? undefined : this.value(r)));
        const layout: Layout = vals.some((v) => v?.layout === 'nchw') ? 'nchw' : vals.some((v) => v?.layout === 'nhwc') ? 'nhwc' : 'other';
        const [x, y] = ins.map((r) => this.operand(r, node, layout)) as [Value, Value];
        const dtype = x.dtype;
        if (node.op === 'Equal') return out(this.g.node('Equal', [x.tensor, y.tensor], {}, hint), layout, 'bool');
        if (node.op === 'FloorDiv') {
          if (dtype !== 'int') throw unsupported(node, 'only integer FloorDiv is supported');
          // ONNX integer Div truncates; TF floors. They agree for the non-negative indices this graph divides.
          return out(this.g.node('Div', [x.tensor, y.tensor], {}, hint), layout, dtype);
        }
        if (node.op === 'FloorMod') return out(this.g.node('Mod', [x.tensor, y.tensor], { fmod: dtype === 'float' ? 1 : 0 }, hint), layout, dtype);
        const op = node.op === 'AddV2' ? 'Add' : node.op;
        return out(this.g.node(op, [x.tensor, y.tensor], {}, hint), layout, dtype);
      }
      case 'Relu':
      case 'Sigmoid': {
        const v = this.value(ins[0]!);
        return out(this.g.node(node.op, [v.tensor], {}, hint), v.layout, v.dtype);
      }
      case 'Relu6': {
        const v = this.value(ins[0]!);
        return out(this.g.node('Clip', [v.tensor, this.g.scalar('zero', 0), this.g.scalar('six', 6)], {}, hint), v.layout);
      }
      case 'Cast': {
        const v = this.value(ins[0]!);
        const dst = a.DstT?.type;
        const dtype: DType = dst === 'DT_FLOAT' ? 'float' : dst === 'DT_INT32' || dst === 'DT_INT64' ? 'int' : dst === 'DT_BOOL' ? 'bool' : (() => { throw unsupported(node, `cast to ${dst}`); })();
        return out(this.g.node('Cast', [v.tensor], { to: ONNX_TYPE[dtype] }, hint), v.layout, dtype);
      }
      case 'Mean': {
        const v = this.value(ins[0]!);
        const axes = this.intList(ins[1]!, node);
        if (v.layout === 'other' || axes.join(',') !== '1,2' || a.keep_dims?.b !== true) throw unsupported(node, 'only a spatial mean over axes [1,2] with keep_dims of a feature map is supported');
        return out(this.g.node('GlobalAveragePool', [this.as(v, 'nchw')], {}, hint), 'nchw');
      }
      case 'MaxPool': {
        const v = this.value(ins[0]!);
        const k = ints(a.ksize);
        const s = ints(a.strides);
        if (str(a.data_format) !== 'NHWC' || k[0] !== 1 || k[3] !== 1 || s[0] !== 1 || s[3] !== 1) throw unsupported(node, 'only NHWC spatial pooling is supported');
        return out(this.g.node('MaxPool', [this.as(v, 'nchw')], { kernel_shape: [k[1]!, k[2]!], strides: [s[1]!, s[2]!], auto_pad: this.autoPad(node) }, hint), 'nchw');
      }
      case 'ResizeBilinear': {
        const v = this.value(ins[0]!);
        const size = this.intList(ins[1]!, node);
        if (a.align_corners?.b === true || a.half_pixel_centers?.b === true) throw unsupported(node, 'only align_corners=false, half_pixel_centers=false is supported');
        const sizes = this.g.addInt64(`${hint}_sizes`, [2], size);
        // TF's legacy bilinear resize samples at dst * in/out: ONNX's "asymmetric" transform.
        const t = this.g.node('Resize', [this.as(v, 'nchw'), '', '', sizes], { mode: 'linear', coordinate_transformation_mode: 'asymmetric', axes: [2, 3] }, hint);
        return out(t, 'nchw');
      }
      case 'ConcatV2': {
        const parts = ins.slice(0, -1).map((r) => this.value(r));
        let axis = this.intList(ins[ins.length - 1]!, node)[0]!;
        const allMaps = parts.every((p) => p.layout === 'nchw' || p.layout === 'nhwc');
        if (allMaps) {
          axis = TO_NHWC[axis < 0 ? axis + 4 : axis]!;
          return out(this.g.node('Concat', parts.map((p) => this.as(p, 'nchw')), { axis }, hint), 'nchw', parts[0]!.dtype);
        }
        return out(this.g.node('Concat', parts.map((p) => this.as(p, 'nhwc')), { axis }, hint), 'other', parts[0]!.dtype);
      }
      case 'Reshape': {
        const v = this.value(ins[0]!);
        const shape = this.g.addInt64(`${hint}_shape`, [this.intList(ins[1]!, node).length], this.intList(ins[1]!, node));
        return out(this.g.node('Reshape', [this.as(v, 'nhwc'), shape], {}, hint), 'other', v.dtype);
      }
      case 'ExpandDims': {
        const v = this.value(ins[0]!);
        if (v.layout !== 'other') throw unsupported(node, 'ExpandDims of a feature map');
        const axes = this.g.addInt64(`${hint}_axes`, [1], this.intList(ins[1]!, node));
        return out(this.g.node('Unsqueeze', [v.tensor, axes], {}, hint), 'other', v.dtype);
      }
      case 'StridedSlice':
        return out(this.stridedSlice(node, ins, hint), 'other', this.value(ins[0]!).dtype);
      case 'GatherV2': {
        const [p, i] = [this.value(ins[0]!), this.value(ins[1]!)];
        const axis = this.intList(ins[2]!, node)[0]!;
        if (p.layout !== 'other' || Number(a.batch_dims?.i ?? 0) !== 0) throw unsupported(node, 'only batch_dims=0 gathers of flat tensors are supported');
        return out(this.g.node('Gather', [p.tensor, i.tensor], { axis }, hint), 'other', p.dtype);
      }
      case 'TopKV2': {
        const v = this.value(ins[0]!);
        if (v.layout !== 'other' || a.sorted?.b !== true) throw unsupported(node, 'only sorted TopK over a flat tensor is supported');
        const k = this.g.addInt64(`${hint}_k`, [1], this.intList(ins[1]!, node));
        const [values, indices] = this.g.nodeOutputs('TopK', [v.tensor, k], { axis: -1, largest: 1, sorted: 1 }, hint, 2) as [string, string];
        return [
          { tensor: values, layout: 'other', dtype: v.dtype },
          { tensor: indices, layout: 'other', dtype: 'int' },
        ];
      }
      default:
        throw new ConversionError('TFJS_TO_ONNX_UNSUPPORTED_LAYER', `Node ${node.name}: op ${node.op} is not supported`);
    }
  }

  private autoPad(node: TfNode): string {
    const padding = str(node.attr?.padding);
    if (padding === 'SAME') return 'SAME_UPPER'; // TF puts the odd pixel at the end, as SAME_UPPER does
    if (padding === 'VALID') return 'VALID';
    throw unsupported(node, `padding ${padding}`);
  }

  private conv(node: TfNode, ins: string[], hint: string): string {
    const a = node.attr ?? {};
    const depthwise = node.op.includes('Depthwise');
    const fused = (a.fused_ops?.list?.s ?? []).map((s) => Buffer.from(s, 'base64').toString('utf8'));
    const strides = ints(a.strides);
    const dilations = ints(a.dilations);
    if (str(a.data_format) !== 'NHWC' || strides[0] !== 1 || strides[3] !== 1 || (dilations.length > 0 && dilations.some((d) => d !== 1))) {
      throw unsupported(node, 'only NHWC, undilated convolutions are supported');
    }
    const fusedOk = ['', 'BiasAdd', 'BiasAdd,Relu', 'BiasAdd,Relu6'];
    if (!fusedOk.includes(fused.join(','))) throw unsupported(node, `fused ops [${fused}]`);
    if (fused.length > 0 && ins.length !== 3) throw unsupported(node, `expected input, filter, bias; got ${ins.length} inputs`);
    const x = this.value(ins[0]!);
    const w = this.constant(ins[1]!, node);
    const [kh, kw, cin, cout] = w.shape as [number, number, number, number];
    const src = w.data as Float32Array;
    // TF filters are HWIO (depthwise: H W C multiplier); ONNX wants OIHW (depthwise: C*m, 1, H, W).
    const outCh = depthwise ? cin * cout : cout;
    const inCh = depthwise ? 1 : cin;
    const weight = new Float32Array(src.length);
    for (let y = 0; y < kh; y++)
      for (let xx = 0; xx < kw; xx++)
        for (let i = 0; i < cin; i++)
          for (let o = 0; o < cout; o++) {
            const from = ((y * kw + xx) * cin + i) * cout + o;
            const oc = depthwise ? i * cout + o : o;
            const ic = depthwise ? 0 : i;
            weight[((oc * inCh + ic) * kh + y) * kw + xx] = src[from]!;
          }
    const inputs = [this.as(x, 'nchw'), this.floatInit(`${hint}_w`, [outCh, inCh, kh, kw], w, weight)];
    if (fused.length > 0) {
      const b = this.constant(ins[2]!, node);
      inputs.push(this.g.addFloat(`${hint}_b`, [outCh], b.data as Float32Array));
    }
    const attrs = { kernel_shape: [kh, kw], strides: [strides[1]!, strides[2]!], auto_pad: this.autoPad(node), group: depthwise ? cin : 1 };
    const conv = this.g.node('Conv', inputs, attrs, hint);
    if (fused.includes('Relu')) return this.g.node('Relu', [conv], {}, `${hint}_relu`);
    if (fused.includes('Relu6')) return this.g.node('Clip', [conv, this.g.scalar('zero', 0), this.g.scalar('six', 6)], {}, `${hint}_relu6`);
    return conv;
  }

  private stridedSlice(node: TfNode, ins: string[], hint: string): string {
    const a = node.attr ?? {};
    for (const m of ['ellipsis_mask', 'new_axis_mask', 'shrink_axis_mask'] as const) {
      if (Number(a[m]?.i ?? 0) !== 0) throw unsupported(node, `${m} is not supported`);
    }
    const v = this.value(ins[0]!);
    const [begin, end, steps] = [1, 2, 3].map((k) => this.intList(ins[k]!, node)) as [number[], number[], number[]];
    const beginMask = Number(a.begin_mask?.i ?? 0);
    const endMask = Number(a.end_mask?.i ?? 0);
    const n = begin.length;
    const big = 2 ** 31 - 1;
    const starts = begin.map((b, i) => ((beginMask >> i) & 1 ? (steps[i]! > 0 ? 0 : big) : b));
    const ends = end.map((e, i) => ((endMask >> i) & 1 ? (steps[i]! > 0 ? big : -big) : e));
    const axes = Array.from({ length: n }, (_, i) => i);
    const init = (name: string, vals: number[]) => this.g.addInt64(`${hint}_${name}`, [n], vals);
    return this.g.node('Slice', [this.as(v, 'nhwc'), init('starts', starts), init('ends', ends), init('axes', axes), init('steps', steps)], {}, hint);
  }
}
