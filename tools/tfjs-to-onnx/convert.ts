// Converts a tfjs layers model (keras topology + decoded weights) into an ONNX graph (opset 17).
// The graph runs in NCHW (onnxruntime's fast path on CPU) behind one NHWC→NCHW transpose of the
// input. ZeroPadding2D is folded into the next convolution's pads and BatchNormalization into the
// preceding convolution's weights. Only the layer types and options listed in `convertLayer` are
// supported: anything else is an error naming the layer, never a silently different graph.
import { ConversionError } from './errors.js';
import type { InboundRef, KerasLayer, LayersModelJson } from './layers-json.js';
import { OnnxGraph, type AttrValue, type ValueShape } from './onnx-graph.js';
import type { WeightTensor } from './weights.js';

export const OPSET = 17;

export interface ConvertOptions {
  /** Layer whose 4-D output becomes `spatial` (NHWC) and, globally averaged, `pooled`. */
  featureLayer: string;
  /** Name of the ONNX graph input (default "input"). */
  inputName?: string;
}

export interface ConversionSummary {
  input: ValueShape;
  outputs: ValueShape[];
  nodeCount: number;
  initializerCount: number;
  parameterCount: number;
  foldedBatchNorms: number;
  foldedPads: number;
}

export interface ConversionResult {
  bytes: Uint8Array;
  summary: ConversionSummary;
}

interface PendingPad {
  layer: string;
  input: string;
  /** top, left, bottom, right */
  pads: [number, number, number, number];
}

interface PendingConv {
  layer: string;
  input: string;
  weight: Float32Array;
  weightDims: number[];
  bias: Float32Array;
  attrs: Record<string, AttrValue>;
}

/** A 4-D (NCHW inside the graph) value; `tensor` is unset while a pad or conv waits to be fused. */
interface MapValue {
  kind: 'map';
  c: number;
  h: number;
  w: number;
  tensor?: string;
  pad?: PendingPad;
  conv?: PendingConv;
}

interface FlatValue {
  kind: 'flat';
  f: number;
  tensor: string;
}

type Value = MapValue | FlatValue;

const unsupportedOption = (layer: KerasLayer, detail: string) =>
  new ConversionError('TFJS_TO_ONNX_UNSUPPORTED_OPTION', `Layer ${layer.name} (${layer.class_name}): ${detail}`);

/**
 * Converts `modelJson` with its decoded `weights` to ONNX bytes.
 * @throws ConversionError for unsupported layers/options, a missing or unused weight, or a malformed topology.
 */
export function convertLayersModel(
  modelJson: LayersModelJson,
  weights: Map<string, WeightTensor>,
  options: ConvertOptions,
): ConversionResult {
  return new Converter(modelJson, weights, options).run();
}

class Converter {
  private readonly g = new OnnxGraph();
  private readonly values = new Map<string, Value>();
  private readonly consumers = new Map<string, string[]>();
  private readonly layers: KerasLayer[];
  private readonly usedWeights = new Set<string>();
  private readonly pinned = new Set<string>();
  private foldedBatchNorms = 0;
  private foldedPads = 0;

  constructor(
    private readonly modelJson: LayersModelJson,
    private readonly weights: Map<string, WeightTensor>,
    private readonly options: ConvertOptions,
  ) {
    const config = modelJson?.modelTopology?.model_config?.config;
    if (!config || !Array.isArray(config.layers)) {
      throw new ConversionError('TFJS_TO_ONNX_BAD_MODEL', 'modelTopology.model_config.config.layers is missing');
    }
    this.layers = config.layers;
  }

  run(): ConversionResult {
    const config = this.modelJson.modelTopology.model_config.config;
    const byName = new Map(this.layers.map((l) => [l.name, l]));
    for (const layer of this.layers) {
      if (layer.inbound_nodes.length > 1) {
        throw unsupportedOption(layer, 'the layer is shared (called on several inputs); only single-use layers are supported');
      }
      for (const ref of layer.inbound_nodes[0] ?? []) {
        const list = this.consumers.get(ref[0]) ?? [];
        list.push(layer.name);
        this.consumers.set(ref[0], list);
      }
    }
    if (config.input_layers.length !== 1 || config.output_layers.length !== 1) {
      throw new ConversionError(
        'TFJS_TO_ONNX_BAD_MODEL',
        `Expected one input and one output layer, found ${config.input_layers.length} and ${config.output_layers.length}`,
      );
    }
    const outputLayer = config.output_layers[0]![0];
    const feature = this.options.featureLayer;
    if (!byName.has(feature)) {
      throw new ConversionError('TFJS_TO_ONNX_BAD_MODEL', `Feature layer ${feature} is not a layer of the model`);
    }
    // Outputs must stay materialized: never fuse them away into a later op.
    this.pinned.add(feature).add(outputLayer);

    for (const layer of this.layers) this.convertLayer(layer);

    const unused = [...this.weights.keys()].filter((k) => !this.usedWeights.has(k));
    if (unused.length > 0) {
      throw new ConversionError(
        'TFJS_TO_ONNX_BAD_WEIGHTS',
        `The converter did not use these weights, so some layer is not understood: ${unused.join(', ')}`,
      );
    }

    const featureValue = this.values.get(feature)!;
    if (featureValue.kind !== 'map') {
      throw new ConversionError('TFJS_TO_ONNX_BAD_MODEL', `Feature layer ${feature} must output a 4-D feature map`);
    }
    const featureTensor = this.materialize(featureValue);
    const pooled = this.g.node('Flatten', [this.g.node('GlobalAveragePool', [featureTensor], {}, 'gap')], { axis: 1 }, 'gap_flat');
    const spatial = this.g.node('Transpose', [featureTensor], { perm: [0, 2, 3, 1] }, 'spatial_nhwc');
    const probsValue = this.values.get(outputLayer)!;
    if (probsValue.kind !== 'flat') {
      throw new ConversionError('TFJS_TO_ONNX_BAD_MODEL', `Output layer ${outputLayer} must output a flat [N, classes] tensor`);
    }
    const inputLayer = byName.get(config.input_layers[0]![0])!;
    const inputValue = this.values.get(inputLayer.name) as MapValue;
    const input: ValueShape = { name: this.options.inputName ?? 'input', dims: ['N', inputValue.h, inputValue.w, inputValue.c] };
    const outputs: ValueShape[] = [
      { name: 'pooled', dims: ['N', featureValue.c] },
      { name: 'spatial', dims: ['N', featureValue.h, featureValue.w, featureValue.c] },
      { name: 'probabilities', dims: ['N', probsValue.f] },
    ];
    const tensors = [pooled, spatial, probsValue.tensor];
    const taken = new Set<string>();
    outputs.forEach((out, i) => {
      const t = tensors[i]!;
      if (taken.has(t) || !this.g.producerOf(t)) this.g.node('Identity', [t], {}, out.name);
      else this.g.rename(t, out.name);
      taken.add(t);
    });

    const encoded = this.g.encode({
      graphName: config.name ?? 'model',
      opset: OPSET,
      inputs: [input],
      outputs,
      producer: 'm3-agiqa tfjs-to-onnx',
      docString: `input: NHWC float32 as the tfjs model takes it; feature layer ${feature}; classifier output ${outputLayer}`,
    });
    return {
      bytes: encoded.bytes,
      summary: {
        input,
        outputs,
        nodeCount: encoded.nodeCount,
        initializerCount: encoded.initializerCount,
        parameterCount: encoded.parameterCount,
        foldedBatchNorms: this.foldedBatchNorms,
        foldedPads: this.foldedPads,
      },
    };
  }

  private weight(layer: KerasLayer, param: string, shape: number[]): Float32Array {
    const name = `${layer.name}/${param}`;
    const w = this.weights.get(name);
    if (w === undefined) throw new ConversionError('TFJS_TO_ONNX_BAD_WEIGHTS', `Layer ${layer.name} needs weight ${name}, which the manifest lacks`);
    if (w.shape.join(',') !== shape.join(',')) {
      throw new ConversionError('TFJS_TO_ONNX_BAD_WEIGHTS', `Weight ${name} has shape [${w.shape}], expected [${shape}]`);
    }
    this.usedWeights.add(name);
    return w.data;
  }

  private inputsOf(layer: KerasLayer): Value[] {
    const refs: InboundRef[] = layer.inbound_nodes[0] ?? [];
    return refs.map((ref) => {
      if (ref[1] !== 0 || ref[2] !== 0) throw unsupportedOption(layer, `input ${ref[0]}[${ref[1]}][${ref[2]}] is not a layer's first output`);
      const v = this.values.get(ref[0]);
      if (v === undefined) throw new ConversionError('TFJS_TO_ONNX_BAD_MODEL', `Layer ${layer.name} reads ${ref[0]} before it is defined`);
      return v;
    });
  }

  private single(layer: KerasLayer): Value {
    const ins = this.inputsOf(layer);
    if (ins.length !== 1) throw unsupportedOption(layer, `expected exactly one input, got ${ins.length}`);
    return ins[0]!;
  }

  private singleMap(layer: KerasLayer): MapValue {
    const v = this.single(layer);
    if (v.kind !== 'map') throw unsupportedOption(layer, 'expected a 4-D input');
    return v;
  }

  /** True when `layer`'s only reader is a layer of one of `classes` and its output is not a graph output. */
  private onlyFeeds(layer: KerasLayer, classes: string[], accept?: (next: KerasLayer) => boolean): boolean {
    if (this.pinned.has(layer.name)) return false;
    const readers = this.consumers.get(layer.name) ?? [];
    if (readers.length !== 1) return false;
    const next = this.layers.find((l) => l.name === readers[0]);
    return next !== undefined && classes.includes(next.class_name) && (accept?.(next) ?? true);
  }

  /** Emits whatever is pending for `v` (a pad or a conv waiting for its BN) and returns its tensor. */
  private materialize(v: Value): string {
    if (v.tensor !== undefined) return v.tensor;
    if (v.kind !== 'map') throw new Error('internal: flat value without tensor');
    if (v.pad) {
      const [t, l, b, r] = v.pad.pads;
      const pads = this.g.addInt64(`${v.pad.layer}/pads`, [8], [0, 0, t, l, 0, 0, b, r]);
      v.tensor = this.g.node('Pad', [v.pad.input, pads], { mode: 'constant' }, v.pad.layer);
    } else if (v.conv) {
      v.tensor = this.emitConv(v.conv, v.conv.layer);
    } else {
      throw new Error('internal: value without tensor or pending op');
    }
    return v.tensor;
  }

  private emitConv(conv: PendingConv, outName: string): string {
    const w = this.g.addFloat(`${conv.layer}/kernel`, conv.weightDims, conv.weight);
    const b = this.g.addFloat(`${conv.layer}/bias`, [conv.weightDims[0]!], conv.bias);
    return this.g.node('Conv', [conv.input, w, b], conv.attrs, outName);
  }

  private checkChannelsLast(layer: KerasLayer): void {
    const fmt = layer.config.data_format;
    if (fmt !== undefined && fmt !== 'channels_last') throw unsupportedOption(layer, `data_format ${String(fmt)} (only channels_last)`);
  }

  private convertLayer(layer: KerasLayer): void {
    const c = layer.config;
    switch (layer.class_name) {
      case 'InputLayer': {
        const shape = c.batch_input_shape as (number | null)[] | undefined;
        if (!Array.isArray(shape) || shape.length !== 4 || shape[0] !== null || shape.slice(1).some((d) => typeof d !== 'number')) {
          throw unsupportedOption(layer, `batch_input_shape ${JSON.stringify(shape)} (need [null, H, W, C])`);
        }
        if (c.dtype !== undefined && c.dtype !== 'float32') throw unsupportedOption(layer, `dtype ${String(c.dtype)}`);
        const [, h, w, ch] = shape as number[];
        const name = this.options.inputName ?? 'input';
        const tensor = this.g.node('Transpose', [name], { perm: [0, 3, 1, 2] }, 'input_nchw');
        this.values.set(layer.name, { kind: 'map', c: ch!, h: h!, w: w!, tensor });
        return;
      }
      case 'ZeroPadding2D': {
        this.checkChannelsLast(layer);
        const [[t, b], [l, r]] = normalizePadding(layer);
        const input = this.singleMap(layer);
        const src = this.materialize(input);
        const value: MapValue = { kind: 'map', c: input.c, h: input.h + t + b, w: input.w + l + r, pad: { layer: layer.name, input: src, pads: [t, l, b, r] } };
        const fusable = this.onlyFeeds(layer, ['Conv2D', 'DepthwiseConv2D'], (next) => next.config.padding === 'valid');
        if (!fusable) this.materialize(value);
        this.values.set(layer.name, value);
        return;
      }
      case 'Conv2D':
      case 'DepthwiseConv2D': {
        this.convertConv(layer);
        return;
      }
      case 'BatchNormalization': {
        const input = this.single(layer);
        const axis = c.axis;
        const lastAxis = input.kind === 'map' ? [-1, 3] : [-1, 1];
        if (typeof axis !== 'number' || !lastAxis.includes(axis)) throw unsupportedOption(layer, `axis ${JSON.stringify(axis)} (only the channel axis)`);
        const eps = c.epsilon;
        if (typeof eps !== 'number') throw unsupportedOption(layer, 'epsilon is missing');
        const n = input.kind === 'map' ? input.c : input.f;
        const gamma = c.scale === false ? new Float32Array(n).fill(1) : this.weight(layer, 'gamma', [n]);
        const beta = c.center === false ? new Float32Array(n) : this.weight(layer, 'beta', [n]);
        const mean = this.weight(layer, 'moving_mean', [n]);
        const variance = this.weight(layer, 'moving_variance', [n]);
        // y = x*s + t with s = gamma/sqrt(var+eps), t = beta - mean*s; computed in float64 once.
        const s = new Float64Array(n);
        const t = new Float64Array(n);
        for (let i = 0; i < n; i++) {
          s[i] = gamma[i]! / Math.sqrt(variance[i]! + eps);
          t[i] = beta[i]! - mean[i]! * s[i]!;
        }
        if (input.kind === 'map' && input.tensor === undefined && input.conv) {
          const conv = input.conv;
          const per = conv.weight.length / n;
          const weight = new Float32Array(conv.weight.length);
          for (let o = 0; o < n; o++) for (let k = 0; k < per; k++) weight[o * per + k] = conv.weight[o * per + k]! * s[o]!;
          const bias = Float32Array.from({ length: n }, (_, o) => conv.bias[o]! * s[o]! + t[o]!);
          const tensor = this.emitConv({ ...conv, weight, bias }, layer.name);
          this.foldedBatchNorms++;
          this.values.set(layer.name, { kind: 'map', c: input.c, h: input.h, w: input.w, tensor });
          return;
        }
        const dims = input.kind === 'map' ? [n, 1, 1] : [n];
        const x = this.materialize(input);
        const mul = this.g.node('Mul', [x, this.g.addFloat(`${layer.name}/scale`, dims, Float32Array.from(s))], {}, `${layer.name}_scale`);
        const tensor = this.g.node('Add', [mul, this.g.addFloat(`${layer.name}/shift`, dims, Float32Array.from(t))], {}, layer.name);
        this.values.set(layer.name, withTensor(input, tensor));
        return;
      }
      case 'ReLU': {
        const input = this.single(layer);
        const slope = c.negative_slope ?? 0;
        const threshold = c.threshold ?? 0;
        if (slope !== 0 || threshold !== 0) throw unsupportedOption(layer, `negative_slope ${String(slope)} / threshold ${String(threshold)} (only 0)`);
        const max = c.max_value;
        const x = this.materialize(input);
        let tensor: string;
        if (max === null || max === undefined) tensor = this.g.node('Relu', [x], {}, layer.name);
        else if (typeof max === 'number') tensor = this.g.node('Clip', [x, this.g.scalar('zero', 0), this.g.scalar(`max_${max}`, max)], {}, layer.name);
        else throw unsupportedOption(layer, `max_value ${JSON.stringify(max)}`);
        this.values.set(layer.name, withTensor(input, tensor));
        return;
      }
      case 'Add': {
        const ins = this.inputsOf(layer);
        if (ins.length < 2) throw unsupportedOption(layer, 'Add needs at least two inputs');
        const shapeOf = (v: Value) => (v.kind === 'map' ? `${v.c}x${v.h}x${v.w}` : `${v.f}`);
        if (new Set(ins.map(shapeOf)).size !== 1) throw unsupportedOption(layer, `inputs of different shapes ${ins.map(shapeOf).join(', ')} (no broadcasting)`);
        let acc = this.materialize(ins[0]!);
        ins.slice(1).forEach((v, i) => {
          acc = this.g.node('Add', [acc, this.materialize(v)], {}, i === ins.length - 2 ? layer.name : `${layer.name}_${i}`);
        });
        this.values.set(layer.name, withTensor(ins[0]!, acc));
        return;
      }
      case 'AveragePooling2D':
      case 'MaxPooling2D': {
        this.checkChannelsLast(layer);
        const input = this.singleMap(layer);
        const pool = pair(layer, c.pool_size, 'pool_size');
        const strides = c.strides === null || c.strides === undefined ? pool : pair(layer, c.strides, 'strides');
        if (c.padding !== 'valid') throw unsupportedOption(layer, `padding ${String(c.padding)} (only valid)`);
        const x = this.materialize(input);
        const h = Math.floor((input.h - pool[0]) / strides[0]) + 1;
        const w = Math.floor((input.w - pool[1]) / strides[1]) + 1;
        const global = pool[0] === input.h && pool[1] === input.w;
        const op = layer.class_name === 'AveragePooling2D' ? 'AveragePool' : 'MaxPool';
        const tensor = global
          ? this.g.node(op === 'AveragePool' ? 'GlobalAveragePool' : 'GlobalMaxPool', [x], {}, layer.name)
          : this.g.node(op, [x], { kernel_shape: pool, strides, pads: [0, 0, 0, 0] }, layer.name);
        this.values.set(layer.name, { kind: 'map', c: input.c, h, w, tensor });
        return;
      }
      case 'GlobalAveragePooling2D': {
        this.checkChannelsLast(layer);
        if (c.keepdims === true) throw unsupportedOption(layer, 'keepdims true');
        const input = this.singleMap(layer);
        const gap = this.g.node('GlobalAveragePool', [this.materialize(input)], {}, 'gap');
        const tensor = this.g.node('Flatten', [gap], { axis: 1 }, layer.name);
        this.values.set(layer.name, { kind: 'flat', f: input.c, tensor });
        return;
      }
      case 'Flatten': {
        this.checkChannelsLast(layer);
        const input = this.single(layer);
        if (input.kind === 'flat') {
          this.values.set(layer.name, input);
          return;
        }
        let x = this.materialize(input);
        // keras flattens in NHWC order; with a 1x1 map NCHW and NHWC agree and the transpose is skipped.
        if (input.h * input.w !== 1) x = this.g.node('Transpose', [x], { perm: [0, 2, 3, 1] }, `${layer.name}_nhwc`);
        const tensor = this.g.node('Flatten', [x], { axis: 1 }, layer.name);
        this.values.set(layer.name, { kind: 'flat', f: input.c * input.h * input.w, tensor });
        return;
      }
      case 'Dense': {
        const input = this.single(layer);
        if (input.kind !== 'flat') throw unsupportedOption(layer, 'Dense on a 4-D input (add a Flatten)');
        const units = c.units;
        if (typeof units !== 'number') throw unsupportedOption(layer, 'units is missing');
        const kernel = this.weight(layer, 'kernel', [input.f, units]);
        const bias = c.use_bias === false ? new Float32Array(units) : this.weight(layer, 'bias', [units]);
        const linearName = c.activation === 'linear' ? layer.name : `${layer.name}_linear`;
        let tensor = this.g.node(
          'Gemm',
          [input.tensor, this.g.addFloat(`${layer.name}/kernel`, [input.f, units], kernel), this.g.addFloat(`${layer.name}/bias`, [units], bias)],
          {},
          linearName,
        );
        tensor = this.activation(layer, tensor);
        this.values.set(layer.name, { kind: 'flat', f: units, tensor });
        return;
      }
      case 'Dropout': {
        // Inference-time identity, as in keras/tfjs predict().
        this.values.set(layer.name, this.single(layer));
        return;
      }
      default:
        throw new ConversionError(
          'TFJS_TO_ONNX_UNSUPPORTED_LAYER',
          `Layer ${layer.name} has type ${layer.class_name}, which the converter does not support`,
        );
    }
  }

  private activation(layer: KerasLayer, x: string): string {
    const act = layer.config.activation;
    switch (act) {
      case 'linear':
        return x;
      case 'relu':
        return this.g.node('Relu', [x], {}, layer.name);
      case 'softmax':
        return this.g.node('Softmax', [x], { axis: -1 }, layer.name);
      default:
        throw unsupportedOption(layer, `activation ${JSON.stringify(act)} (supported: linear, relu, softmax)`);
    }
  }

  private convertConv(layer: KerasLayer): void {
    const c = layer.config;
    this.checkChannelsLast(layer);
    const depthwise = layer.class_name === 'DepthwiseConv2D';
    const input = this.singleMap(layer);
    const [kh, kw] = pair(layer, c.kernel_size, 'kernel_size');
    const strides = pair(layer, c.strides ?? [1, 1], 'strides');
    const dilation = pair(layer, c.dilation_rate ?? [1, 1], 'dilation_rate');
    if (dilation[0] !== 1 || dilation[1] !== 1) throw unsupportedOption(layer, `dilation_rate [${dilation}] (only 1)`);
    if (c.padding !== 'valid' && c.padding !== 'same') throw unsupportedOption(layer, `padding ${String(c.padding)}`);
    if (c.activation !== 'linear' && c.activation !== 'relu') throw unsupportedOption(layer, `activation ${JSON.stringify(c.activation)} (supported: linear, relu)`);
    if (c.groups !== undefined && c.groups !== 1) throw unsupportedOption(layer, `groups ${String(c.groups)}`);

    const cin = input.c;
    let cout: number;
    let weight: Float32Array;
    let weightDims: number[];
    if (depthwise) {
      const m = c.depth_multiplier ?? 1;
      if (typeof m !== 'number') throw unsupportedOption(layer, 'depth_multiplier');
      cout = cin * m;
      const k = this.weight(layer, 'depthwise_kernel', [kh, kw, cin, m]);
      // keras [kh,kw,cin,m] → ONNX [cin*m,1,kh,kw]; output channel ci*m+j, as tf orders it.
      weight = new Float32Array(cout * kh * kw);
      for (let y = 0; y < kh; y++)
        for (let x = 0; x < kw; x++)
          for (let ci = 0; ci < cin; ci++)
            for (let j = 0; j < m; j++) weight[((ci * m + j) * kh + y) * kw + x] = k[((y * kw + x) * cin + ci) * m + j]!;
      weightDims = [cout, 1, kh, kw];
    } else {
      if (typeof c.filters !== 'number') throw unsupportedOption(layer, 'filters is missing');
      cout = c.filters;
      const k = this.weight(layer, 'kernel', [kh, kw, cin, cout]);
      // keras [kh,kw,cin,cout] → ONNX [cout,cin,kh,kw]
      weight = new Float32Array(cout * cin * kh * kw);
      for (let y = 0; y < kh; y++)
        for (let x = 0; x < kw; x++)
          for (let ci = 0; ci < cin; ci++)
            for (let o = 0; o < cout; o++) weight[((o * cin + ci) * kh + y) * kw + x] = k[((y * kw + x) * cin + ci) * cout + o]!;
      weightDims = [cout, cin, kh, kw];
    }
    const bias = c.use_bias === true ? this.weight(layer, 'bias', [cout]) : new Float32Array(cout);

    let src: string;
    let pads: [number, number, number, number];
    let h: number;
    let w: number;
    if (c.padding === 'valid') {
      if (input.tensor === undefined && input.pad) {
        src = input.pad.input;
        pads = input.pad.pads;
        this.foldedPads++;
      } else {
        src = this.materialize(input);
        pads = [0, 0, 0, 0];
      }
      h = Math.floor((input.h - kh) / strides[0]) + 1;
      w = Math.floor((input.w - kw) / strides[1]) + 1;
    } else {
      // TF "same": total padding split with the odd pixel at the bottom/right.
      src = this.materialize(input);
      h = Math.ceil(input.h / strides[0]);
      w = Math.ceil(input.w / strides[1]);
      const ph = Math.max((h - 1) * strides[0] + kh - input.h, 0);
      const pw = Math.max((w - 1) * strides[1] + kw - input.w, 0);
      pads = [Math.floor(ph / 2), Math.floor(pw / 2), ph - Math.floor(ph / 2), pw - Math.floor(pw / 2)];
    }
    if (h < 1 || w < 1) throw unsupportedOption(layer, `kernel larger than its ${input.h}x${input.w} input`);
    const conv: PendingConv = {
      layer: layer.name,
      input: src,
      weight,
      weightDims,
      bias,
      attrs: { kernel_shape: [kh, kw], strides, pads, dilations: [1, 1], group: depthwise ? cin : 1 },
    };
    const value: MapValue = { kind: 'map', c: cout, h, w, conv };
    if (c.activation === 'relu') {
      const x = this.materialize(value);
      this.values.set(layer.name, { kind: 'map', c: cout, h, w, tensor: this.g.node('Relu', [x], {}, `${layer.name}_relu`) });
      return;
    }
    if (!this.onlyFeeds(layer, ['BatchNormalization'])) this.materialize(value);
    this.values.set(layer.name, value);
  }
}

function withTensor(v: Value, tensor: string): Value {
  return v.kind === 'map' ? { kind: 'map', c: v.c, h: v.h, w: v.w, tensor } : { kind: 'flat', f: v.f, tensor };
}

function pair(layer: KerasLayer, v: unknown, what: string): [number, number] {
  if (typeof v === 'number') return [v, v];
  if (Array.isArray(v) && v.length === 2 && v.every((x) => Number.isInteger(x) && x > 0)) return [v[0], v[1]];
  throw unsupportedOption(layer, `${what} ${JSON.stringify(v)}`);
}

function normalizePadding(layer: KerasLayer): [[number, number], [number, number]] {
  const p = layer.config.padding;
  const ok = (x: unknown): x is number => Number.isInteger(x) && (x as number) >= 0;
  if (ok(p)) return [[p, p], [p, p]];
  if (Array.isArray(p) && p.length === 2) {
    if (ok(p[0]) && ok(p[1])) return [[p[0], p[0]], [p[1], p[1]]];
    if (p.every((q) => Array.isArray(q) && q.length === 2 && q.every(ok))) return [[p[0][0], p[0][1]], [p[1][0], p[1][1]]];
  }
  throw unsupportedOption(layer, `padding ${JSON.stringify(p)}`);
}
