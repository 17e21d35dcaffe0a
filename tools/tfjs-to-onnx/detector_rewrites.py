"""Graph rewrites of the detector's QDQ model for onnxruntime's CPU kernels (quantize_detector.py runs
them): each removes work the int8 convolutions left around them, measured in docs/object-checks.md
("Speed"). pad_depthwise_channels runs on the float model before Q/DQ placement; quantize_islands and
integer_hard_swish on the QDQ model; raw_heads last, after the model check."""
import numpy as np
from onnx import helper, numpy_helper, TensorProto

from qdq_common import consumers_of, producers_of

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



def planar_input(graph):
    """The graph takes the picture as planes, `images` [1,3,S,S]: the tfjs graph's first node transposes its
    NHWC input to NCHW, which onnxruntime ran on every picture (0.5-0.8 ms) before the float stem's
    convolution, which reads planes itself. src/model/object-detector.ts writes the planes directly (the
    same values: the heat map is byte for byte the same)."""
    name = graph.input[0].name
    transpose = next(n for n in graph.node if list(n.input) == [name])
    perm = next(list(a.ints) for a in transpose.attribute if a.name == "perm")
    assert transpose.op_type == "Transpose" and perm == [0, 3, 1, 2], f"{transpose.name}: the input is not transposed to NCHW first"
    for node in graph.node:
        node.input[:] = [name if i == transpose.output[0] else i for i in node.input]
    graph.node.remove(transpose)
    dims = graph.input[0].type.tensor_type.shape.dim
    side = dims[1].dim_value
    assert dims[2].dim_value == side and dims[3].dim_value == 3
    dims[1].dim_value, dims[2].dim_value, dims[3].dim_value = 3, side, side
