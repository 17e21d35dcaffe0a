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
nothing to gain; their weights are stored in int8 and dequantized, being half the file), the
hard-swish/sigmoid arithmetic, resizes and the peak decoding. The output heads are int8 with min/max
ranges (calibrate-detector.ts). Weights left in float keep the source's float16 storage behind a Cast
(onnxruntime folds it at load), so the file stays small.
"""
import argparse
import json
import os
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "qdq"))
from qdq_common import activation_params, consumers_of, per_channel_weights, place_new_nodes, producers_of  # noqa: E402

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


# The squeeze-excite gates are in [0, 1] by construction (hard sigmoid, sigmoid): a fixed uint8 range.
GATE_SCALE, GATE_ZERO_POINT = np.float32(1 / 255), np.uint8(0)


def add_qdq(graph, name, scale, zero_point, inits):
    """Quantizes tensor `name` in place: its producer writes `name`_float, Q/DQ (parameters given or those of
    an existing scale/zero-point pair) give every consumer the dequantized tensor under the old name."""
    producers = producers_of(graph)
    producer = producers[name]
    if isinstance(scale, str):
        s, z = scale, zero_point
    else:
        s, z = f"{name}_scale", f"{name}_zero_point"
        inits.append(numpy_helper.from_array(np.array(scale, dtype=np.float32), s))
        inits.append(numpy_helper.from_array(np.array(zero_point, dtype=np.uint8), z))
    producer.output[:] = [f"{name}_float" if o == name else o for o in producer.output]
    nodes = [helper.make_node("QuantizeLinear", [f"{name}_float", s, z], [f"{name}_q"], name=f"{name}_Q"),
             helper.make_node("DequantizeLinear", [f"{name}_q", s, z], [name], name=f"{name}_DQ")]
    index = list(graph.node).index(producer)
    for k, node in enumerate(nodes):
        graph.node.insert(index + 1 + k, node)


def quantize_islands(graph):
    """What the convolutions' Q/DQ left in float between int8 layers, rewritten so onnxruntime runs it on
    uint8 in the convolutions' NHWC layout (each float island cost a dequantize, the op, a quantize and,
    for layout-bound ops, two transposes): the head's Concat→ReLU (QLinearConcat; the ReLU is the uint8
    clamp at zero point 0, exactly), its bilinear upsamplings (uint8 Resize with the input's parameters)
    and every squeeze-excite gate (its [0, 1] gate in uint8, the gating product as QLinearMul)."""
    inits = {t.name: t for t in graph.initializer}
    producers = producers_of(graph)
    consumers = consumers_of(graph)
    new_inits = []
    dq_of = {n.output[0]: n for n in graph.node if n.op_type == "DequantizeLinear"}

    def params(tensor):
        dq = dq_of[tensor]
        return dq.input[1], dq.input[2]

    relus = 0
    for node in list(graph.node):
        # Concat -> Relu -> (Q/DQ with zero point 0): the Relu goes, the Concat's output is quantized.
        if node.op_type != "Relu" or producers.get(node.input[0]) is None or producers[node.input[0]].op_type != "Concat":
            continue
        concat = producers[node.input[0]]
        assert node.output[0].endswith("_float"), f"{node.name}: its output is not quantized"
        zero_point = numpy_helper.to_array(inits[params(node.output[0][:-len("_float")])[1]])
        assert int(zero_point) == 0, f"{node.name}: a ReLU's range must start at 0"
        concat.output[0] = node.output[0]
        graph.node.remove(node)
        relus += 1

    resizes = 0
    for node in list(graph.node):
        if node.op_type == "Resize" and node.input[0] in dq_of:
            scale, zero_point = params(node.input[0])
            add_qdq(graph, node.output[0], scale, zero_point, new_inits)
            resizes += 1

    gates = 0
    producers = producers_of(graph)
    pooled = {n.input[0] for n in graph.node if n.op_type == "GlobalAveragePool"}
    for node in list(graph.node):
        if node.op_type != "Mul" or len(node.input) != 2 or not any(i in pooled for i in node.input):
            continue
        gate = next(i for i in node.input if i not in pooled)
        add_qdq(graph, gate, GATE_SCALE, GATE_ZERO_POINT, new_inits)
        gates += 1
    graph.initializer.extend(new_inits)
    return f"{relus} concat ReLUs, {resizes} resizes and {gates} squeeze-excite gates in uint8"


# onnxruntime's uint8 depthwise kernels work on 16 channels at a time; a depthwise convolution of 72 or 18
# channels took twice the time of one of 64 or 128 on the same map.
CHANNEL_BLOCK = 16
UNARY = ("Relu", "HardSwish", "Clip", "Sigmoid", "HardSigmoid")


def pad_depthwise_channels(graph):
    """Every depthwise convolution whose channel count is not a multiple of CHANNEL_BLOCK gets zero channels
    up to the next multiple: the convolution that feeds it gets zero output channels (weights and bias 0,
    so 0 after ReLU or hard-swish), the convolutions that read it (through squeeze-excite too) zero input
    weights for them. The original channels compute exactly what they did, with the same ranges."""
    inits = {t.name: t for t in graph.initializer}
    producers = producers_of(graph)
    consumers = consumers_of(graph)

    def attr(node, name, default=None):
        return next((helper.get_attribute_value(a) for a in node.attribute if a.name == name), default)

    def resize(name, axis, size):
        value = numpy_helper.to_array(inits[name])
        pad = [(0, 0)] * value.ndim
        pad[axis] = (0, size - value.shape[axis])
        inits[name].CopyFrom(numpy_helper.from_array(np.pad(value, pad), name))

    def pad_out(conv, size):
        resize(conv.input[1], 0, size)
        if len(conv.input) > 2 and conv.input[2]:
            resize(conv.input[2], 0, size)

    def scalar_operand(node):
        return node.op_type in ("Add", "Mul") and any(i in inits and numpy_helper.to_array(inits[i]).size == 1 for i in node.input)

    def back_to_conv(tensor, padded):
        node = producers[tensor]
        while node.op_type in UNARY or scalar_operand(node):
            padded.add(node.output[0])
            node = producers[next(i for i in node.input if i not in inits)]
        assert node.op_type == "Conv" and attr(node, "group", 1) == 1, f"{tensor}: no pointwise convolution behind it"
        padded.add(node.output[0])
        return node

    padded_convs = []
    for dw in list(graph.node):
        channels = numpy_helper.to_array(inits[dw.input[1]]).shape[0] if dw.op_type == "Conv" and dw.input[1] in inits else 0
        if dw.op_type != "Conv" or attr(dw, "group", 1) != channels or channels % CHANNEL_BLOCK == 0:
            continue
        size = -(-channels // CHANNEL_BLOCK) * CHANNEL_BLOCK
        padded = set()
        pad_out(back_to_conv(dw.input[0], padded), size)
        pad_out(dw, size)
        next(a for a in dw.attribute if a.name == "group").i = size
        padded.add(dw.output[0])
        queue, handled = list(padded), {id(dw)}
        while queue:
            tensor = queue.pop()
            for node in consumers.get(tensor, []):
                if id(node) in handled:
                    continue
                handled.add(id(node))
                if node.op_type == "Conv":
                    assert attr(node, "group", 1) == 1, f"{node.name}: a depthwise convolution reads a padded tensor"
                    resize(node.input[1], 1, size)
                    continue
                if node.op_type in ("Mul", "Add") and not scalar_operand(node):
                    other = next(i for i in node.input if i != tensor)
                    if other not in padded:
                        pad_out(back_to_conv(other, padded), size)
                elif node.op_type not in UNARY + ("GlobalAveragePool", "Add", "Mul"):
                    raise AssertionError(f"{node.name} ({node.op_type}) reads a padded tensor")
                if node.output[0] not in padded:
                    padded.add(node.output[0])
                    queue.append(node.output[0])
        padded_convs.append(f"{channels}->{size}")
    return padded_convs


def integer_hard_swish(graph):
    """DQ -> HardSwish -> Q after a convolution becomes a uint8 Clip and a QLinearMul, one pass on bytes and
    one product instead of four float passes: hard-swish(x) = x * clip(x + 3, 0, 6) / 6, and with the
    convolution's output scale s set to 3/k (k = floor(3/s): the calibrated range widens by at most 1/k,
    5 % here, and never clips) x + 3 is the same bytes read with zero point z - k, so clip(x + 3, 0, 6) / 6
    is those bytes clipped to [z - k, z + k] and read with scale s/6."""
    inits = {t.name: t for t in graph.initializer}
    producers = producers_of(graph)
    consumers = consumers_of(graph)
    rewritten = 0
    for node in list(graph.node):
        if node.op_type != "HardSwish":
            continue
        dq = producers.get(node.input[0])
        if dq is None or dq.op_type != "DequantizeLinear" or len(consumers[node.input[0]]) != 1:
            continue
        x_q, scale_name, zero_name = dq.input
        low, high = [float(v) for v in (np.array([0, 255]) - int(numpy_helper.to_array(inits[zero_name]))) * float(numpy_helper.to_array(inits[scale_name]))]
        k = int(np.floor(3 / float(numpy_helper.to_array(inits[scale_name]))))
        scale = np.float32(3 / k)
        zero_point = int(np.clip(round(-low / scale), 0, 255))
        assert zero_point - k >= 0 and zero_point + k <= 255, f"{node.name}: -3..3 is not inside the range [{low}, {high}]"
        inits[scale_name].CopyFrom(numpy_helper.from_array(np.array(scale, dtype=np.float32), scale_name))
        inits[zero_name].CopyFrom(numpy_helper.from_array(np.array(zero_point, dtype=np.uint8), zero_name))
        base = node.name
        new = [
            numpy_helper.from_array(np.array(zero_point - k, dtype=np.uint8), f"{base}_gate_low"),
            numpy_helper.from_array(np.array(zero_point + k, dtype=np.uint8), f"{base}_gate_high"),
            numpy_helper.from_array(np.array(scale / 6, dtype=np.float32), f"{base}_gate_scale"),
        ]
        graph.initializer.extend(new)
        for t in new:
            inits[t.name] = t
        index = list(graph.node).index(node)
        graph.node.remove(node)
        for k_, n in enumerate([
            helper.make_node("Clip", [x_q, f"{base}_gate_low", f"{base}_gate_high"], [f"{base}_gate_q"], name=f"{base}_gate"),
            helper.make_node("DequantizeLinear", [f"{base}_gate_q", f"{base}_gate_scale", f"{base}_gate_low"], [f"{base}_gate"], name=f"{base}_gate_DQ"),
            helper.make_node("Mul", [node.input[0], f"{base}_gate"], list(node.output), name=base),
        ]):
            graph.node.insert(index + k_, n)
        rewritten += 1
    return rewritten


CLS_HEAD = "tower_0_CenternetHead_centernet_cls_output_BiasAdd"
WH_HEAD = "tower_0_CenternetHead_centernet_wh_output_BiasAdd"
# The tfjs graph scales its size head by this before gathering boxes (tower_0/mul/y).
WH_SCALE = "tower_0/mul/y"


def raw_heads(graph):
    """The graph ends at its two heads: the class heat map as uint8 logits (`heatmap` [1,S/4,S/4,80] with
    `heatmap_scale`/`heatmap_zero_point`), each cell's strongest class (`cell_max` [1,S/4,S/4,1]) and
    the box extents in input pixels (`extents` [1,S/4,S/4,4]). The tfjs tail after them (sigmoid, 3x3
    max-pool peaks, TopK over 1.3 M values, gathers: 4 ms a picture) becomes src/model/object-detector.ts's
    peak search over the few cells `cell_max` marks."""
    producers = producers_of(graph)
    quantized_cls = f"{CLS_HEAD}_q"
    dq = producers[CLS_HEAD]
    assert dq.op_type == "DequantizeLinear" and dq.input[0] == quantized_cls
    scale, zero_point = dq.input[1], dq.input[2]
    tail = [
        helper.make_node("Transpose", [quantized_cls], ["heatmap"], perm=[0, 2, 3, 1], name="heatmap_nhwc"),
        helper.make_node("ReduceMax", ["heatmap", "cell_max_axes"], ["cell_max"], keepdims=1, name="cell_max"),
        helper.make_node("Mul", [WH_HEAD, WH_SCALE], ["extents_nchw"], name="extents_scaled"),
        helper.make_node("Transpose", ["extents_nchw"], ["extents"], perm=[0, 2, 3, 1], name="extents_nhwc"),
        helper.make_node("Identity", [scale], ["heatmap_scale"], name="heatmap_scale"),
        helper.make_node("Identity", [zero_point], ["heatmap_zero_point"], name="heatmap_zero_point"),
    ]
    graph.initializer.append(numpy_helper.from_array(np.array([3], dtype=np.int64), "cell_max_axes"))
    needed, stack = set(), [quantized_cls, WH_HEAD]
    while stack:
        node = producers.get(stack.pop())
        if node is not None and id(node) not in needed:
            needed.add(id(node))
            stack.extend(node.input)
    keep = [n for n in graph.node if id(n) in needed] + tail
    del graph.node[:]
    graph.node.extend(keep)
    side = graph.input[0].type.tensor_type.shape.dim[1].dim_value // 4
    del graph.output[:]
    graph.output.extend([
        helper.make_tensor_value_info("heatmap", TensorProto.UINT8, [1, side, side, 80]),
        helper.make_tensor_value_info("cell_max", TensorProto.UINT8, [1, side, side, 1]),
        helper.make_tensor_value_info("extents", TensorProto.FLOAT, [1, side, side, 4]),
        helper.make_tensor_value_info("heatmap_scale", TensorProto.FLOAT, []),
        helper.make_tensor_value_info("heatmap_zero_point", TensorProto.UINT8, []),
    ])


def prepare(args):
    model = onnx.load(args.model)
    folded = fold_casts(model)
    resizes = full_resize_sizes(model)
    swishes = fuse_hard_swish(model)
    drop_unused_initializers(model.graph)
    os.makedirs(args.out_dir, exist_ok=True)
    onnx.save(model, os.path.join(args.out_dir, "float.onnx"))
    tensors = activation_tensors(model.graph)
    instrumented = onnx.ModelProto()
    instrumented.CopyFrom(model)
    existing = {o.name for o in instrumented.graph.output}
    for name in tensors:
        if name not in existing:
            instrumented.graph.output.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, None))
    onnx.save(instrumented, os.path.join(args.out_dir, "instrumented.onnx"))
    with open(os.path.join(args.out_dir, "tensors.json"), "w") as f:
        json.dump(tensors, f, indent=1)
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
