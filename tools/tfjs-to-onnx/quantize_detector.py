"""Static int8 quantization (QDQ format) of the lite pack's CenterNet detector, for onnxruntime's QLinearConv.

Why: the float detector (37 ms at 512² on 2 threads) made a lite score with correspondence 2.85x the
cost of one without; int8 convolutions run on the integer kernels (VNNI / AVX2) at a fraction of that.
onnxruntime's python quantizer is not installed here, so the Q/DQ nodes are written with the onnx
package, the way training/lite/quantize.py does for the quality model.

Three steps (tools/tfjs-to-onnx/detector-int8.sh runs them all):
  prepare   converted model (float16 weights behind Cast nodes) -> float32 model with the casts folded,
            tfjs' hard-swish as HardSwish nodes and Resize with 4-D sizes (float.onnx: scores within
            4e-3 of the converted graph) and an instrumented copy that also outputs every activation to
            be quantized (instrumented.onnx + tensors.json);
  (calibrate-detector.ts runs the instrumented copy on generated scenes and writes ranges.json)
  quantize  float model + ranges -> QDQ model: uint8 asymmetric activations, per-output-channel symmetric
            int8 weights in 7 bits (reduce-range: no int16 saturation in the AVX2 u8s8 kernels of CPUs
            without VNNI), int32 biases.

What stays float: the stem (the first convolution and block 0: this network takes 0-255 pixels with no
normalisation, so block 0's residual sum spans ±150 and one 8-bit step there erases what separates
small objects; in int8 "object present" recall fell from 0.72 to 0.57 on a held-out part of the
generated scenes, with the stem in float it is 0.69), the squeeze-excite convolutions (1x1 spatial:
nothing to gain; their weights are stored in int8 and dequantized, being half the file) and the heads'
sigmoid. The output heads are int8 with min/max ranges (calibrate-detector.ts). Weights left in float
keep the source's float16 storage behind a Cast (onnxruntime folds it at load), so the file stays small.
What onnxruntime would otherwise run as float islands between the int8 layers (squeeze-excite pools
and gates, hard-swish, the head's concatenations and upsamplings), the depthwise channel padding and
the cut after the heads and the planar input are graph rewrites in detector_rewrites.py (docs/object-checks.md, "Speed").
"""
import argparse
import json
import os
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "qdq"))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from qdq_common import activation_params, consumers_of, per_channel_weights, place_new_nodes, producers_of, write_instrumented  # noqa: E402
from detector_rewrites import integer_hard_swish, pad_depthwise_channels, planar_input, quantize_islands, raw_heads  # noqa: E402

WEIGHT_BITS = 7
# Convolutions whose weights alone are int8 (activations float), by a part of their name.
WEIGHT_ONLY = ("squeeze_excite", "conv1x1_se")
# Convolutions left in float, by a part of their name (see the module comment).
KEEP_FLOAT = [
    "squeeze_excite",
    "conv1x1_se",
    "MobilenetV3_Conv_",
    "MobilenetV3_expanded_conv_depthwise",
    "MobilenetV3_expanded_conv_project",
]


def fold_casts(model):
    """Cast(float16 initializer -> float) becomes a float32 initializer under the Cast's output name."""
    graph = model.graph
    inits = {t.name: t for t in graph.initializer}
    keep, folded = [], 0
    for node in graph.node:
        to = next((a.i for a in node.attribute if a.name == "to"), None)
        if node.op_type == "Cast" and node.input[0] in inits and to == TensorProto.FLOAT:
            value = numpy_helper.to_array(inits[node.input[0]]).astype(np.float32)
            graph.initializer.append(numpy_helper.from_array(value, node.output[0]))
            folded += 1
        else:
            keep.append(node)
    del graph.node[:]
    graph.node.extend(keep)
    return folded


def drop_unused_initializers(graph):
    used = {i for n in graph.node for i in n.input}
    remaining = [t for t in graph.initializer if t.name in used]
    del graph.initializer[:]
    graph.initializer.extend(remaining)


def channels_of(graph, name):
    """Output channels of the tensor `name`: walks back through elementwise ops to the convolution that made it."""
    producers = producers_of(graph)
    inits = {t.name: t for t in graph.initializer}
    node = producers[name]
    while node.op_type != "Conv":
        node = producers[node.input[0]]
    return numpy_helper.to_array(inits[node.input[1]]).shape[0]


def full_resize_sizes(model):
    """Resize with `axes` [2,3] and 2 sizes becomes Resize with all 4 sizes: onnxruntime's QDQ propagation
    rebuilt the former without its axes (load fails: "Number of elements of input 'sizes' (0) does not match
    the number of axes (2)"), and Debian's onnx 1.12 does not know `axes`."""
    graph = model.graph
    inits = {t.name: t for t in graph.initializer}
    rewritten = 0
    for node in graph.node:
        axes = next((a for a in node.attribute if a.name == "axes"), None)
        if node.op_type != "Resize" or axes is None:
            continue
        assert list(axes.ints) == [2, 3] and len(node.input) == 4, node.name
        sizes = numpy_helper.to_array(inits[node.input[3]])
        full = np.array([1, channels_of(graph, node.input[0]), *sizes], dtype=np.int64)
        graph.initializer.append(numpy_helper.from_array(full, f"{node.input[3]}_nchw"))
        node.input[3] = f"{node.input[3]}_nchw"
        node.attribute.remove(axes)
        rewritten += 1
    return rewritten


def scalar(inits, name):
    value = inits.get(name)
    return None if value is None or numpy_helper.to_array(value).size != 1 else float(numpy_helper.to_array(value))


def fuse_hard_swish(model):
    """tfjs' hard-swish, Mul(x, c≈1/6) · Clip(Add(x, 3), 0, 6), becomes one HardSwish node: one pass over
    the activation instead of four (c is 1/6 in float16, 0.1666260; HardSwish's exact 1/6 differs by
    2.4e-4 of the value)."""
    graph = model.graph
    inits = {t.name: t for t in graph.initializer}
    producers = producers_of(graph)
    consumers = consumers_of(graph)
    fused, drop = 0, set()
    for node in graph.node:
        if node.op_type != "Mul" or len(node.input) != 2:
            continue
        scaled = producers.get(node.input[0])
        clip = producers.get(node.input[1])
        if scaled is None or clip is None or scaled.op_type != "Mul" or clip.op_type != "Clip":
            continue
        add = producers.get(clip.input[0])
        if add is None or add.op_type != "Add":
            continue
        x = add.input[0]
        c = scalar(inits, scaled.input[0])
        if (c is None or abs(c - 1 / 6) > 1e-3 or scaled.input[1] != x or scalar(inits, add.input[1]) != 3.0
                or scalar(inits, clip.input[1]) != 0.0 or scalar(inits, clip.input[2]) != 6.0
                or any(len(consumers[t]) != 1 for t in (scaled.output[0], add.output[0], clip.output[0]))):
            continue
        drop.update(id(n) for n in (scaled, add, clip))
        node.op_type = "HardSwish"
        del node.input[:]
        node.input.append(x)
        fused += 1
    keep = [n for n in graph.node if id(n) not in drop]
    del graph.node[:]
    graph.node.extend(keep)
    return fused


def quantized_convs(graph):
    inits = {t.name for t in graph.initializer}
    return [
        n for n in graph.node
        if n.op_type == "Conv" and n.input[1] in inits and not any(k in n.name for k in KEEP_FLOAT)
    ]


def activation_tensors(graph):
    """Every tensor a quantized convolution reads, its output (after its ReLU when one alone follows), and
    the sums whose inputs are all quantized (residuals, upsample branches)."""
    consumers = consumers_of(graph)
    chosen = []
    for node in quantized_convs(graph):
        chosen.append(node.input[0])
        after = consumers.get(node.output[0], [])
        chosen.append(after[0].output[0] if len(after) == 1 and after[0].op_type == "Relu" else node.output[0])
    quantized = set(chosen)
    for node in graph.node:
        if node.op_type == "Add" and all(i in quantized for i in node.input):
            chosen.append(node.output[0])
            quantized.add(node.output[0])
    # Squeeze-excite: the pooled tensor (a hard-swish or the head's ReLU where no convolution reads it) and
    # the pool's output, so that pool and gating product run on uint8 (QLinearGlobalAveragePool, QLinearMul)
    # in the convolutions' layout instead of as float islands with layout transposes around them.
    for node in graph.node:
        if node.op_type == "GlobalAveragePool":
            chosen += [node.input[0], node.output[0]]
    return list(dict.fromkeys(chosen))


def prepare(args):
    model = onnx.load(args.model)
    folded = fold_casts(model)
    resizes = full_resize_sizes(model)
    swishes = fuse_hard_swish(model)
    drop_unused_initializers(model.graph)
    os.makedirs(args.out_dir, exist_ok=True)
    onnx.save(model, os.path.join(args.out_dir, "float.onnx"))
    tensors = activation_tensors(model.graph)
    write_instrumented(model, tensors, args.out_dir)
    print(f"folded {folded} float16 casts, {resizes} resizes to 4-D sizes, {swishes} hard-swishes fused; {len(quantized_convs(model.graph))} convolutions to quantize, "
          f"{len(tensors)} activation tensors")


def quantize(args):
    model = onnx.load(args.model)
    graph = model.graph
    padded = pad_depthwise_channels(graph) if args.pad_channels else []
    with open(args.ranges) as f:
        ranges = json.load(f)
    tensors = activation_tensors(graph)
    missing = [t for t in tensors if t not in ranges]
    assert not missing, f"no calibrated range for {missing[:3]}"
    inits = {t.name: t for t in graph.initializer}
    producers = producers_of(graph)
    graph_input = graph.input[0].name
    new_inits, new_nodes = [], []  # new_nodes: (node that must run first or None, new node)
    input_scale = {}

    rename = {}
    for name in tensors:
        low, high = ranges[name]
        scale, zero_point = activation_params(low, high)
        s, z = f"{name}_scale", f"{name}_zero_point"
        new_inits.append(numpy_helper.from_array(np.array(scale, dtype=np.float32), s))
        new_inits.append(numpy_helper.from_array(np.array(zero_point, dtype=np.uint8), z))
        # Every consumer (graph outputs included) reads the dequantized tensor under the original name.
        raw = f"{name}_float"
        assert name != graph_input, "the graph input itself cannot be quantized in place"
        rename[name] = raw
        producer = producers.get(name)
        new_nodes.append((producer, helper.make_node("QuantizeLinear", [raw, s, z], [f"{name}_q"], name=f"{name}_Q")))
        new_nodes.append((producer, helper.make_node("DequantizeLinear", [f"{name}_q", s, z], [name], name=f"{name}_DQ")))
        input_scale[name] = float(scale)
    for node in graph.node:
        node.output[:] = [rename.get(o, o) for o in node.output]

    convs = quantized_convs(graph)
    for node in convs:
        weight = numpy_helper.to_array(inits[node.input[1]]).astype(np.float32)
        out_channels = weight.shape[0]
        bias = (numpy_helper.to_array(inits[node.input[2]]).astype(np.float32)
                if len(node.input) > 2 and node.input[2] else np.zeros(out_channels, np.float32))
        w_q, w_scale = per_channel_weights(weight, args.weight_bits)
        b_scale = (w_scale * input_scale[node.input[0]]).astype(np.float32)
        b_q = np.round(bias / b_scale).astype(np.int32)
        base, bias_base = node.input[1], f"{node.name}_bias"
        new_inits += [
            numpy_helper.from_array(w_q, f"{base}_int8"),
            numpy_helper.from_array(w_scale.astype(np.float32), f"{base}_scale"),
            numpy_helper.from_array(np.zeros(out_channels, np.int8), f"{base}_zero_point"),
            numpy_helper.from_array(b_q, f"{bias_base}_int32"),
            numpy_helper.from_array(b_scale, f"{bias_base}_scale"),
            numpy_helper.from_array(np.zeros(out_channels, np.int32), f"{bias_base}_zero_point"),
        ]
        new_nodes.append((None, helper.make_node("DequantizeLinear", [f"{base}_int8", f"{base}_scale", f"{base}_zero_point"], [f"{base}_dq"], axis=0)))
        new_nodes.append((None, helper.make_node("DequantizeLinear", [f"{bias_base}_int32", f"{bias_base}_scale", f"{bias_base}_zero_point"], [f"{bias_base}_dq"], axis=0)))
        node.input[1:] = [f"{base}_dq", f"{bias_base}_dq"]

    # Squeeze-excite convolutions: int8 weights only (8 bits per output channel, dequantized for a float
    # convolution): they hold more parameters than all the int8 convolutions and run on 1x1 maps.
    for node in graph.node:
        if node.op_type != "Conv" or node.input[1] not in inits or not any(k in node.name for k in WEIGHT_ONLY):
            continue
        weight = numpy_helper.to_array(inits[node.input[1]]).astype(np.float32)
        w_q, w_scale = per_channel_weights(weight, 8)
        name = node.input[1]
        new_inits += [
            numpy_helper.from_array(w_q, f"{name}_int8"),
            numpy_helper.from_array(w_scale.astype(np.float32), f"{name}_scale"),
            numpy_helper.from_array(np.zeros(len(w_scale), np.int8), f"{name}_zero_point"),
        ]
        new_nodes.append((None, helper.make_node("DequantizeLinear", [f"{name}_int8", f"{name}_scale", f"{name}_zero_point"], [f"{name}_dq"], axis=0)))
        node.input[1] = f"{name}_dq"

    # Weights left in float go back to their float16 source values behind a Cast (exact: they came from float16).
    for node in graph.node:
        if node.op_type != "Conv" or node.input[1] not in inits:
            continue
        weight = numpy_helper.to_array(inits[node.input[1]])
        half = weight.astype(np.float16)
        if weight.dtype != np.float32 or not np.array_equal(half.astype(np.float32), weight):
            continue
        name = node.input[1]
        new_inits.append(numpy_helper.from_array(half, f"{name}_f16"))
        new_nodes.append((None, helper.make_node("Cast", [f"{name}_f16"], [f"{name}_f32"], to=TensorProto.FLOAT, name=f"{name}_cast")))
        node.input[1] = f"{name}_f32"

    place_new_nodes(graph, new_nodes)
    graph.initializer.extend(new_inits)
    islands = quantize_islands(graph)
    if args.integer_hard_swish:
        islands += f", {integer_hard_swish(graph)} hard-swishes as uint8 clip and product"
    drop_unused_initializers(graph)
    model.producer_name = "agiqa tools/tfjs-to-onnx/quantize_detector.py"
    onnx.checker.check_model(model)
    # After the check: Debian's onnx 1.12 knows ReduceMax only up to opset 13 (axes as an attribute), and
    # this is an opset-18 graph (axes as an input); onnxruntime checks the tail when it loads the file.
    raw_heads(graph)
    if args.planar_input:
        planar_input(graph)
    drop_unused_initializers(graph)
    onnx.save(model, args.out)
    print(f"wrote {args.out}: {len(tensors)} activations, {len(convs)} convolutions in int8, {islands}, depthwise channels padded {' '.join(padded)} ({os.path.getsize(args.out)} bytes)")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="step", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("--model", required=True, help="the converted detector (tools/tfjs-to-onnx/cli.ts --model centernet)")
    p.add_argument("--out-dir", required=True)
    q = sub.add_parser("quantize")
    q.add_argument("--model", required=True, help="float.onnx from prepare")
    q.add_argument("--ranges", required=True, help="ranges.json from calibrate-detector.ts")
    q.add_argument("--out", required=True)
    q.add_argument("--float-hard-swish", dest="integer_hard_swish", action="store_false", help="hard-swish in float between the Q/DQ pairs")
    q.add_argument("--nhwc-input", dest="planar_input", action="store_false", help="keep the converted graph's NHWC input and its transpose to NCHW")
    q.add_argument("--no-pad-channels", dest="pad_channels", action="store_false", help="leave depthwise channel counts as they are (to check that padding changes no result)")
    q.add_argument("--weight-bits", type=int, default=WEIGHT_BITS, help="7 (default) keeps the AVX2 u8s8 kernels of CPUs without VNNI from saturating")
    for p in (p, q):
        p.add_argument("--keep-float", default=",".join(KEEP_FLOAT), help="comma-separated name parts of convolutions left in float")
    args = parser.parse_args()
    KEEP_FLOAT[:] = [k for k in args.keep_float.split(",") if k]
    if args.step == "prepare":
        prepare(args)
    else:
        quantize(args)


if __name__ == "__main__":
    main()
