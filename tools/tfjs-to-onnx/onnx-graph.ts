// A small ONNX graph builder over onnx-proto: nodes with identical op/inputs/attributes are shared
// (so two routes to the same global average cost one op), outputs are renamed in place, and
// serialization drops every node and initializer that no graph output needs.
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

export type AttrValue = number | number[] | string | { float: number };

interface GraphNode {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs: Record<string, AttrValue>;
  name: string;
}

interface Initializer {
  dims: number[];
  kind: 'float' | 'int64' | 'float16';
  /** float16 values are stored as their IEEE half bits. */
  values: Float32Array | BigInt64Array | Uint16Array;
}

export interface ValueShape {
  name: string;
  /** 'N' marks the dynamic batch dimension. */
  dims: (number | 'N')[];
}

export class OnnxGraph {
  private readonly nodes: GraphNode[] = [];
  private readonly initializers = new Map<string, Initializer>();
  private readonly shared = new Map<string, string>();
  private readonly usedNames = new Set<string>();

  /** A tensor name not used yet, derived from `base`. */
  freshName(base: string): string {
    let name = base;
    for (let i = 1; this.usedNames.has(name) || this.initializers.has(name); i++) name = `${base}_${i}`;
    this.usedNames.add(name);
    return name;
  }

  addFloat(name: string, dims: number[], values: Float32Array): string {
    const n = this.freshName(name);
    this.initializers.set(n, { dims, kind: 'float', values });
    return n;
  }

  addInt64(name: string, dims: number[], values: number[]): string {
    const key = `int64:${dims.join(',')}:${values.join(',')}`;
    const existing = this.shared.get(key);
    if (existing !== undefined) return existing;
    const n = this.freshName(name);
    this.initializers.set(n, { dims, kind: 'int64', values: BigInt64Array.from(values.map(BigInt)) });
    this.shared.set(key, n);
    return n;
  }

  /** A half-precision initializer (values as IEEE half bits): halves the file for weights that were float16 already. */
  addFloat16(name: string, dims: number[], bits: Uint16Array): string {
    const n = this.freshName(name);
    this.initializers.set(n, { dims, kind: 'float16', values: bits });
    return n;
  }

  /** A node with several outputs (TopK); never shared with another node. */
  nodeOutputs(op: string, inputs: string[], attrs: Record<string, AttrValue>, nameHint: string, count: number): string[] {
    const outs = Array.from({ length: count }, (_, i) => this.freshName(`${nameHint}_${i}`));
    this.nodes.push({ op, inputs, outputs: outs, attrs, name: outs[0]! });
    return outs;
  }

  /** A float scalar initializer, shared between all users of the same value. */
  scalar(name: string, value: number): string {
    const key = `scalar:${value}`;
    const existing = this.shared.get(key);
    if (existing !== undefined) return existing;
    const n = this.addFloat(name, [], Float32Array.of(value));
    this.shared.set(key, n);
    return n;
  }

  /** Adds a node with one output and returns the output's name (an existing one if an identical node exists). */
  node(op: string, inputs: string[], attrs: Record<string, AttrValue>, nameHint: string): string {
    const key = `node:${op}:${inputs.join(',')}:${JSON.stringify(attrs)}`;
    const existing = this.shared.get(key);
    if (existing !== undefined) return existing;
    const out = this.freshName(nameHint);
    this.nodes.push({ op, inputs, outputs: [out], attrs, name: out });
    this.shared.set(key, out);
    return out;
  }

  /** Renames tensor `from` to `to` everywhere (used to give graph outputs their public names). */
  rename(from: string, to: string): void {
    if (this.usedNames.has(to) || this.initializers.has(to)) throw new Error(`tensor name ${to} is taken`);
    this.usedNames.add(to);
    for (const n of this.nodes) {
      n.inputs = n.inputs.map((x) => (x === from ? to : x));
      n.outputs = n.outputs.map((x) => (x === from ? to : x));
    }
    for (const [k, v] of this.shared) if (v === from) this.shared.set(k, to);
  }

  producerOf(tensor: string): boolean {
    return this.nodes.some((n) => n.outputs.includes(tensor));
  }

  /** Serializes the graph, keeping only what the outputs depend on. */
  encode(opts: {
    graphName: string;
    opset: number;
    inputs: ValueShape[];
    outputs: ValueShape[];
    producer: string;
    docString?: string;
  }): { bytes: Uint8Array; nodeCount: number; initializerCount: number; parameterCount: number } {
    const needed = new Set(opts.outputs.map((o) => o.name));
    const kept: GraphNode[] = [];
    for (let i = this.nodes.length - 1; i >= 0; i--) {
      const n = this.nodes[i]!;
      if (n.outputs.some((o) => needed.has(o))) {
        kept.unshift(n);
        for (const x of n.inputs) needed.add(x);
      }
    }
    const inits = [...this.initializers].filter(([name]) => needed.has(name));
    const valueInfo = (v: ValueShape) => ({
      name: v.name,
      type: {
        tensorType: {
          elemType: onnx.TensorProto.DataType.FLOAT,
          shape: { dim: v.dims.map((d) => (d === 'N' ? { dimParam: 'N' } : { dimValue: d })) },
        },
      },
    });
    const model = onnx.ModelProto.create({
      irVersion: 8,
      opsetImport: [{ domain: '', version: opts.opset }],
      producerName: opts.producer,
      docString: opts.docString ?? '',
      graph: {
        name: opts.graphName,
        input: opts.inputs.map(valueInfo),
        output: opts.outputs.map(valueInfo),
        node: kept.map((n) => ({
          opType: n.op,
          name: n.name,
          input: n.inputs,
          output: n.outputs,
          attribute: Object.entries(n.attrs).map(([name, v]) => encodeAttr(name, v)),
        })),
        initializer: inits.map(([name, init]) => ({
          name,
          dims: init.dims,
          dataType: DATA_TYPE[init.kind],
          // raw little-endian bytes: far smaller and faster to parse than repeated float_data
          rawData: new Uint8Array(init.values.buffer, init.values.byteOffset, init.values.byteLength),
        })),
      },
    });
    return {
      bytes: onnx.ModelProto.encode(model).finish(),
      nodeCount: kept.length,
      initializerCount: inits.length,
      parameterCount: inits.reduce((a, [, i]) => a + (i.kind === 'int64' ? 0 : i.values.length), 0),
    };
  }
}

const DATA_TYPE = {
  float: onnx.TensorProto.DataType.FLOAT,
  float16: onnx.TensorProto.DataType.FLOAT16,
  int64: onnx.TensorProto.DataType.INT64,
} as const;

function encodeAttr(name: string, v: AttrValue) {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'number') return { name, type: T.INT, i: v };
  if (typeof v === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
  return { name, type: T.FLOAT, f: v.float };
}
