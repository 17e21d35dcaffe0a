// The only module that imports onnxruntime-node: a typed boundary around an inference session.
// Sessions are created once per worker and reused; `run` blocks its thread, so callers run it in a
// worker (see worker-pool.ts), never on a server's event loop.
import * as ort from 'onnxruntime-node';
import { agiqaError } from '../errors/index.js';

export interface FloatTensor {
  data: Float32Array;
  dims: readonly number[];
}

export interface ByteTensor {
  data: Uint8Array;
  dims: readonly number[];
}

export interface OnnxModelOptions {
  /** Threads inside one inference (intra-op); one per worker when several workers share the cores. */
  threads: number;
  /** Names the model in messages, e.g. "lite/quality.onnx". */
  label: string;
}

export class OnnxModel {
  private constructor(
    private readonly session: ort.InferenceSession,
    readonly label: string,
  ) {}

  /** Loads an ONNX file; throws AGQ_ERR_MODEL_LOAD naming the pack file when onnxruntime refuses it. */
  static async load(path: string, options: OnnxModelOptions & { pack: string; file: string }): Promise<OnnxModel> {
    try {
      const session = await ort.InferenceSession.create(path, {
        intraOpNumThreads: options.threads,
        interOpNumThreads: 1,
        graphOptimizationLevel: 'all',
        executionMode: 'sequential',
        // Idle intra-op threads sleep instead of spinning: agiqa runs beside the generator (ComfyUI, A1111)
        // and scores with two or more sessions in turn (quality model, then detector); spinning threads of
        // one session took the cores from the next and doubled the CPU time per score on a 2-core machine.
        extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
      });
      return new OnnxModel(session, options.label);
    } catch (cause) {
      throw agiqaError('AGQ_ERR_MODEL_LOAD', { pack: options.pack, file: options.file, detail: (cause as Error).message }, { cause });
    }
  }

  get inputNames(): readonly string[] {
    return this.session.inputNames;
  }

  /** The static shape the graph declares for input `name` (symbolic dimensions as -1), or undefined when it declares none. */
  inputShape(name: string): number[] | undefined {
    const meta = this.session.inputMetadata.find((m) => m.name === name);
    if (meta === undefined || !meta.isTensor || meta.shape.length === 0) return undefined;
    return meta.shape.map((d) => (typeof d === 'number' && d > 0 ? d : -1));
  }

  get outputNames(): readonly string[] {
    return this.session.outputNames;
  }

  /** Throws AGQ_ERR_MODEL_INPUT listing every input the graph needs that `provided` lacks. */
  assertInputs(provided: readonly string[]): void {
    const missing = this.inputNames.filter((name) => !provided.includes(name));
    const unknown = provided.filter((name) => !this.inputNames.includes(name));
    if (missing.length > 0 || unknown.length > 0) {
      const parts = [];
      if (missing.length > 0) parts.push(`missing ${missing.join(', ')}`);
      if (unknown.length > 0) parts.push(`unknown ${unknown.join(', ')}`);
      throw agiqaError('AGQ_ERR_MODEL_INPUT', { model: this.label, detail: `${parts.join('; ')} (the graph takes ${this.inputNames.join(', ')})` });
    }
  }

  /** Runs the graph on float32 inputs and returns the requested float32 outputs. */
  async run(inputs: Record<string, FloatTensor>, outputs: readonly string[] = this.outputNames): Promise<Record<string, FloatTensor>> {
    const results = await this.runGraph(inputs, outputs);
    const out: Record<string, FloatTensor> = {};
    for (const name of outputs) out[name] = this.typed(results, name, 'float32') as FloatTensor;
    return out;
  }

  /** Runs the graph on float32 inputs; each requested output is float32 or uint8 (a quantized graph's raw output), as `types` says. */
  async runMixed<T extends Record<string, 'float32' | 'uint8'>>(
    inputs: Record<string, FloatTensor>,
    types: T,
  ): Promise<{ [K in keyof T]: T[K] extends 'uint8' ? ByteTensor : FloatTensor }> {
    const results = await this.runGraph(inputs, Object.keys(types));
    const out: Record<string, FloatTensor | ByteTensor> = {};
    for (const [name, type] of Object.entries(types)) out[name] = this.typed(results, name, type);
    return out as { [K in keyof T]: T[K] extends 'uint8' ? ByteTensor : FloatTensor };
  }

  private typed(results: ort.InferenceSession.ReturnType, name: string, type: 'float32' | 'uint8'): FloatTensor | ByteTensor {
    const tensor = results[name];
    if (tensor === undefined || tensor.type !== type) {
      throw agiqaError('AGQ_ERR_MODEL_INPUT', { model: this.label, detail: `output ${name} is missing or not ${type}` });
    }
    return type === 'uint8' ? { data: tensor.data as Uint8Array, dims: tensor.dims } : { data: tensor.data as Float32Array, dims: tensor.dims };
  }

  private async runGraph(inputs: Record<string, FloatTensor>, outputs: readonly string[]): Promise<ort.InferenceSession.ReturnType> {
    this.assertInputs(Object.keys(inputs));
    const feeds: Record<string, ort.Tensor> = {};
    for (const [name, tensor] of Object.entries(inputs)) feeds[name] = new ort.Tensor('float32', tensor.data, tensor.dims);
    let results: ort.InferenceSession.ReturnType;
    try {
      results = await this.session.run(feeds, outputs as string[]);
    } catch (cause) {
      throw agiqaError('AGQ_ERR_INFERENCE', { detail: `${this.label}: ${(cause as Error).message}` }, { cause });
    }
    return results;
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
