// Types of the tfjs layers-model JSON (keras topology + weights manifest) as far as the converter reads it.

export interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string; min?: number; scale?: number };
}

export interface WeightsManifestGroup {
  paths: string[];
  weights: WeightSpec[];
}

/** [layerName, nodeIndex, tensorIndex, kwargs?] */
export type InboundRef = [string, number, number, Record<string, unknown>?];

export interface KerasLayer {
  name: string;
  class_name: string;
  config: Record<string, unknown>;
  inbound_nodes: InboundRef[][];
}

export interface LayersModelJson {
  modelTopology: {
    keras_version?: string;
    model_config: {
      class_name: string;
      config: {
        name?: string;
        layers: KerasLayer[];
        input_layers: InboundRef[];
        output_layers: InboundRef[];
      };
    };
  };
  weightsManifest: WeightsManifestGroup[];
}
