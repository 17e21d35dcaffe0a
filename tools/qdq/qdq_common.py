"""The pieces of static int8 (QDQ) quantization that the quality model's quantizer
(training/lite/quantize.py) and the detector's (tools/tfjs-to-onnx/quantize_detector.py) share: graph
lookups, activation and per-channel weight parameters, and where new Q/DQ nodes go in the node list.
What each model keeps in float and which tensors it quantizes stays in its own script."""
import json
import os

import numpy as np
import onnx
from onnx import helper, TensorProto


def consumers_of(graph):
    out = {}
    for node in graph.node:
        for name in node.input:
            out.setdefault(name, []).append(node)
    return out


def producers_of(graph):
    return {name: node for node in graph.node for name in node.output}


def activation_params(low, high):
    """uint8 asymmetric scale and zero point of a calibrated range (widened to hold 0)."""
    low, high = min(0.0, low), max(0.0, high)
    scale = (high - low) / 255.0 if high > low else 1.0
    zero_point = int(np.clip(round(-low / scale), 0, 255))
    return np.float32(scale), np.uint8(zero_point)


def per_channel_weights(weight, bits):
    """Symmetric per-output-channel int8 weights in `bits` bits: (int8 weights, scales in float64, which
    the callers multiply into the bias scales before rounding to float32)."""
    limit = 2 ** (bits - 1) - 1
    scale = np.abs(weight).reshape(weight.shape[0], -1).max(axis=1) / limit
    scale[scale == 0] = 1.0
    quantized = np.clip(np.round(weight / scale[:, None, None, None]), -limit, limit).astype(np.int8)
    return quantized, scale


def place_new_nodes(graph, new_nodes):
    """Topological placement of (producer or None, node) pairs: constants first, each Q/DQ pair right
    after the producer of the tensor it reads."""
    after, ordered = {}, []
    for producer, node in new_nodes:
        if producer is None:
            ordered.append(node)
        else:
            assert producer.name, "a quantized tensor's producer has no name"
            after.setdefault(producer.name, []).append(node)
    for node in graph.node:
        ordered.append(node)
        ordered.extend(after.get(node.name, []))
    del graph.node[:]
    graph.node.extend(ordered)


def write_instrumented(model, tensors, out_dir):
    """The calibration copy: `model` also outputting every activation in `tensors` (instrumented.onnx),
    and the list itself (tensors.json), which the calibration run reads back in that order."""
    instrumented = onnx.ModelProto()
    instrumented.CopyFrom(model)
    existing = {o.name for o in instrumented.graph.output}
    for name in tensors:
        if name not in existing:
            instrumented.graph.output.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, None))
    onnx.save(instrumented, os.path.join(out_dir, "instrumented.onnx"))
    with open(os.path.join(out_dir, "tensors.json"), "w") as f:
        json.dump(tensors, f, indent=1)
