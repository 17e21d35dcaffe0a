"""Static int8 quantization of the lite quality model (QDQ format, for onnxruntime's QLinearConv).

Why: the float MobileNetV2 costs ~5.7 ms per 224² crop on one core here, above the pack's 6 ms model
budget once input preparation is added; int8 convolutions run on VNNI/AVX2 integer kernels.

Three steps (see run.sh):
  prepare   float model -> simplified float model (the keras-style explicit Pads folded into the
            convolutions' own asymmetric pads, ReLU→Clip(0,6) pairs merged into the Clip) and an
            instrumented copy that also outputs every activation to be quantized (+ tensors.json);
  (calibrate.ts runs the instrumented copy on training crops and writes ranges.json)
  quantize  simplified model + ranges -> QDQ model: uint8 asymmetric activations (calibrated min/max),
            per-output-channel symmetric int8 weights in 7 bits (reduce-range: no int16 saturation
            in the AVX2 u8s8 kernels of CPUs without VNNI), int32 biases; heads and statistics stay float.

The stem and blocks 0-1 stay in float (--keep-float): with them in int8 the held-out SRCC of the blur
types fell by 0.04-0.06 (gaussian blur 0.884 -> 0.825; the faint high-frequency responses that tell
mild blur apart sit far below the full-range steps of the 112x112 activations), and they cost little.

The block-12 activation feeds both the next convolution and the mean/std statistics of the image
embedding; the statistics read the float tensor (per-tensor 8-bit steps would flatten the small
standard deviations that carry mild noise), only the convolution reads the quantized copy.
"""
import argparse
import json
import os
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "qdq"))
from qdq_common import activation_params, consumers_of, per_channel_weights, place_new_nodes, producers_of, write_instrumented  # noqa: E402

# Tensors whose float value is also read by float statistics; only their Conv/Add consumers are quantized.
STATISTICS_TENSORS = ("/blocks.12/Add_output_0",)
WEIGHT_BITS = 7


def constant_value(graph, name):
    for init in graph.initializer:
        if init.name == name:
            return numpy_helper.to_array(init)
    for node in graph.node:
        if node.op_type == "Constant" and node.output[0] == name:
            return numpy_helper.to_array(node.attribute[0].t)
    raise KeyError(name)


def remove_dead_nodes(graph):
    needed = {o.name for o in graph.output}
    keep = []
    for node in reversed(graph.node):
        if any(o in needed for o in node.output):
            keep.append(node)
            needed.update(i for i in node.input if i)
    keep.reverse()
    del graph.node[:]
    graph.node.extend(keep)
    used = {i for n in graph.node for i in n.input}
    inits = [t for t in graph.initializer if t.name in used]
    del graph.initializer[:]
    graph.initializer.extend(inits)


def simplify(model):
    graph = model.graph
    producers = producers_of(graph)
    consumers = consumers_of(graph)
    folded = merged = 0
    for node in list(graph.node):
        if node.op_type == "Pad":
            (conv,) = consumers[node.output[0]]
            assert conv.op_type == "Conv", conv.op_type
            pads = next(a for a in conv.attribute if a.name == "pads")
            assert list(pads.ints) == [0, 0, 0, 0]
            # keras ZeroPadding2D(((0, 1), (0, 1))): one row at the bottom, one column at the right.
            del pads.ints[:]
            pads.ints.extend([0, 0, 1, 1])
            conv.input[0] = node.input[0]
            folded += 1
        elif node.op_type == "Clip" and node.input[0] in producers and producers[node.input[0]].op_type == "Relu":
            relu = producers[node.input[0]]
            low = constant_value(graph, node.input[1])
            assert float(low) == 0.0 and len(consumers[relu.output[0]]) == 1
            node.input[0] = relu.input[0]
            merged += 1
    remove_dead_nodes(graph)
    return folded, merged


def quantized_convs(graph, keep_float):
    return [n for n in graph.node if n.op_type == "Conv" and not any(n.name.startswith(p) for p in keep_float)]


def activation_tensors(graph, keep_float=()):
    """Every tensor a quantized convolution reads or writes (its Clip's output when one follows) and the residual sums."""
    consumers = consumers_of(graph)
    chosen = []
    for node in quantized_convs(graph, keep_float):
        chosen.append(node.input[0])
        after = consumers.get(node.output[0], [])
        chosen.append(after[0].output[0] if len(after) == 1 and after[0].op_type == "Clip" else node.output[0])
    quantized = set(chosen)
    for node in graph.node:
        if node.op_type == "Add" and all(i in quantized for i in node.input):
            chosen.append(node.output[0])
            quantized.add(node.output[0])
    return list(dict.fromkeys(chosen))


def prepare(args):
    model = onnx.load(args.model)
    folded, merged = simplify(model)
    os.makedirs(args.out_dir, exist_ok=True)
    onnx.save(model, os.path.join(args.out_dir, "simplified.onnx"))
    tensors = activation_tensors(model.graph)
    write_instrumented(model, tensors, args.out_dir)
    print(f"folded {folded} pads, merged {merged} relu+clip pairs; {len(tensors)} activation tensors")


def quantize(args):
    model = onnx.load(args.model)
    graph = model.graph
    with open(args.ranges) as f:
        ranges = json.load(f)
    keep_float = [p for p in args.keep_float.split(",") if p]
    tensors = activation_tensors(graph, keep_float)
    missing = [t for t in tensors if t not in ranges]
    assert not missing, f"no calibrated range for {missing[:3]}"
    # The names come from torch's export: a re-export that renamed the block-12 sum would otherwise
    # quietly quantize the statistics too.
    unknown = [t for t in STATISTICS_TENSORS if t not in tensors]
    assert not unknown, f"statistics tensor(s) {unknown} not in the graph: update STATISTICS_TENSORS"
    inits = {t.name: t for t in graph.initializer}
    new_inits = []
    new_nodes = []  # (node that must run first or None, new node)
    input_scale = {}  # quantized tensor name (as a Conv reads it) -> activation scale
    producers = producers_of(graph)
    consumers = consumers_of(graph)

    def add_qdq(source, target, name):
        """Q/DQ from `source` to `target` with the calibrated range of activation `name`."""
        low, high = ranges[name]
        scale, zero_point = activation_params(low, high)
        s, z = f"{name}_scale", f"{name}_zero_point"
        if s not in {t.name for t in new_inits}:
            new_inits.append(numpy_helper.from_array(np.array(scale, dtype=np.float32), s))
            new_inits.append(numpy_helper.from_array(np.array(zero_point, dtype=np.uint8), z))
        producer = producers.get(name)
        new_nodes.append((producer, helper.make_node("QuantizeLinear", [source, s, z], [f"{target}_q"], name=f"{target}_Q")))
        new_nodes.append((producer, helper.make_node("DequantizeLinear", [f"{target}_q", s, z], [target], name=f"{target}_DQ")))
        input_scale[target] = float(scale)

    rename = {}
    for name in tensors:
        if name in STATISTICS_TENSORS:
            # Only the quantizable consumers read a quantized copy; the statistics keep the float tensor.
            copy = f"{name}_for_conv"
            add_qdq(name, copy, name)
            for node in consumers[name]:
                if node.op_type in ("Conv", "Add"):
                    node.input[:] = [copy if i == name else i for i in node.input]
        else:
            # Every consumer (graph outputs included) reads the dequantized tensor under the original name.
            raw = f"{name}_float"
            rename[name] = raw
            add_qdq(raw, name, name)
    for node in graph.node:
        node.output[:] = [rename.get(o, o) for o in node.output]
    if graph.input[0].name in rename:
        raise ValueError("the graph input itself cannot be quantized in place")

    for node in quantized_convs(graph, keep_float):
        weight = numpy_helper.to_array(inits[node.input[1]]).astype(np.float32)
        bias = numpy_helper.to_array(inits[node.input[2]]).astype(np.float32)
        w_q, w_scale = per_channel_weights(weight, WEIGHT_BITS)
        x_scale = input_scale[node.input[0]]
        b_scale = (w_scale * x_scale).astype(np.float32)
        b_q = np.round(bias / b_scale).astype(np.int32)
        base = node.input[1]
        new_inits += [
            numpy_helper.from_array(w_q, f"{base}_int8"),
            numpy_helper.from_array(w_scale.astype(np.float32), f"{base}_scale"),
            numpy_helper.from_array(np.zeros(len(w_scale), np.int8), f"{base}_zero_point"),
            numpy_helper.from_array(b_q, f"{node.input[2]}_int32"),
            numpy_helper.from_array(b_scale, f"{node.input[2]}_scale"),
            numpy_helper.from_array(np.zeros(len(b_scale), np.int32), f"{node.input[2]}_zero_point"),
        ]
        w_dq = helper.make_node("DequantizeLinear", [f"{base}_int8", f"{base}_scale", f"{base}_zero_point"], [f"{base}_dq"], axis=0)
        b_dq = helper.make_node("DequantizeLinear", [f"{node.input[2]}_int32", f"{node.input[2]}_scale", f"{node.input[2]}_zero_point"], [f"{node.input[2]}_dq"], axis=0)
        new_nodes += [(None, w_dq), (None, b_dq)]
        node.input[1], node.input[2] = f"{base}_dq", f"{node.input[2]}_dq"

    place_new_nodes(graph, new_nodes)
    graph.initializer.extend(new_inits)
    remove_dead_nodes(graph)
    onnx.checker.check_model(model)
    onnx.save(model, args.out)
    print(f"wrote {args.out}: {len(tensors)} activations, {len(quantized_convs(graph, keep_float))} convolutions in int8 "
          f"({os.path.getsize(args.out) / 2**20:.1f} MiB)")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="step", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("--model", required=True)
    p.add_argument("--out-dir", required=True)
    q = sub.add_parser("quantize")
    q.add_argument("--model", required=True, help="simplified.onnx from prepare")
    q.add_argument("--ranges", required=True, help="ranges.json from calibrate.ts")
    q.add_argument("--out", required=True)
    q.add_argument("--keep-float", default="", help="comma-separated name prefixes of convolutions left in float")
    args = parser.parse_args()
    if args.step == "prepare":
        prepare(args)
    else:
        quantize(args)


if __name__ == "__main__":
    main()
