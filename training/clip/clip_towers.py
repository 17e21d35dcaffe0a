"""CLIP image and text towers with projection, written from the architecture description (ViT with a
class token, pre-LayerNorm transformer, causal text transformer pooled at the end-of-text token).

Used with random weights only: to make the tiny test model and the benchmark's full-size ViT-B/32
files. The ONNX input/output names follow the Xenova/HF exports that transformers.js loads:
vision `pixel_values` -> `image_embeds`, `last_hidden_state`; text `input_ids` -> `text_embeds`,
`last_hidden_state`.
"""
import math

import torch
from torch import nn


class QuickGelu(nn.Module):
    def forward(self, x):
        return x * torch.sigmoid(1.702 * x)


class Attention(nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.heads = heads
        self.head_dim = width // heads
        self.q_proj = nn.Linear(width, width)
        self.k_proj = nn.Linear(width, width)
        self.v_proj = nn.Linear(width, width)
        self.out_proj = nn.Linear(width, width)

    def forward(self, x, mask=None):
        b, s, w = x.shape
        def split(t):
            return t.reshape(b, s, self.heads, self.head_dim).transpose(1, 2)
        q = split(self.q_proj(x)) * (1.0 / math.sqrt(self.head_dim))
        k = split(self.k_proj(x))
        v = split(self.v_proj(x))
        scores = q @ k.transpose(-1, -2)
        if mask is not None:
            scores = scores + mask
        out = torch.softmax(scores, dim=-1) @ v
        return self.out_proj(out.transpose(1, 2).reshape(b, s, w))


class Block(nn.Module):
    def __init__(self, width, heads, mlp_ratio=4):
        super().__init__()
        self.layer_norm1 = nn.LayerNorm(width)
        self.self_attn = Attention(width, heads)
        self.layer_norm2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(nn.Linear(width, width * mlp_ratio), QuickGelu(), nn.Linear(width * mlp_ratio, width))

    def forward(self, x, mask=None):
        x = x + self.self_attn(self.layer_norm1(x), mask)
        return x + self.mlp(self.layer_norm2(x))


class VisionTower(nn.Module):
    def __init__(self, image_size, patch_size, width, layers, heads, projection_dim):
        super().__init__()
        self.patch_embedding = nn.Conv2d(3, width, kernel_size=patch_size, stride=patch_size, bias=False)
        patches = (image_size // patch_size) ** 2
        self.class_embedding = nn.Parameter(torch.randn(width) * 0.02)
        self.position_embedding = nn.Parameter(torch.randn(patches + 1, width) * 0.02)
        self.pre_layrnorm = nn.LayerNorm(width)
        self.blocks = nn.ModuleList([Block(width, heads) for _ in range(layers)])
        self.post_layernorm = nn.LayerNorm(width)
        self.visual_projection = nn.Linear(width, projection_dim, bias=False)

    def forward(self, pixel_values):
        x = self.patch_embedding(pixel_values).flatten(2).transpose(1, 2)
        cls = self.class_embedding.expand(x.shape[0], 1, -1)
        x = torch.cat([cls, x], dim=1) + self.position_embedding
        x = self.pre_layrnorm(x)
        for block in self.blocks:
            x = block(x)
        pooled = self.post_layernorm(x[:, 0, :])
        return self.visual_projection(pooled), x


class TextTower(nn.Module):
    def __init__(self, vocab_size, max_positions, width, layers, heads, projection_dim):
        super().__init__()
        self.token_embedding = nn.Embedding(vocab_size, width)
        self.position_embedding = nn.Parameter(torch.randn(max_positions, width) * 0.01)
        self.blocks = nn.ModuleList([Block(width, heads) for _ in range(layers)])
        self.final_layer_norm = nn.LayerNorm(width)
        self.text_projection = nn.Linear(width, projection_dim, bias=False)

    def forward(self, input_ids):
        s = input_ids.shape[1]
        x = self.token_embedding(input_ids) + self.position_embedding[:s]
        # Causal: a token sees only those before it, so padding after end-of-text changes nothing.
        mask = torch.triu(torch.full((s, s), float('-inf')), diagonal=1)
        for block in self.blocks:
            x = block(x, mask)
        x = self.final_layer_norm(x)
        # CLIP pools at the end-of-text token, the highest id in the vocabulary (argmax of the ids).
        eot = input_ids.argmax(dim=-1)
        pooled = x[torch.arange(x.shape[0]), eot]
        return self.text_projection(pooled), x


def export_vision(tower, path, image_size, opset=17):
    tower.eval()
    dummy = torch.randn(1, 3, image_size, image_size)
    torch.onnx.export(
        tower, (dummy,), path, opset_version=opset,
        input_names=['pixel_values'], output_names=['image_embeds', 'last_hidden_state'],
        dynamic_axes={'pixel_values': {0: 'batch_size'}, 'image_embeds': {0: 'batch_size'}, 'last_hidden_state': {0: 'batch_size'}},
    )


def export_text(tower, path, eot_id, opset=17):
    tower.eval()
    dummy = torch.tensor([[eot_id - 1, 5, 6, eot_id], [eot_id - 1, 7, eot_id, eot_id]], dtype=torch.int64)
    torch.onnx.export(
        tower, (dummy,), path, opset_version=opset,
        input_names=['input_ids'], output_names=['text_embeds', 'last_hidden_state'],
        dynamic_axes={'input_ids': {0: 'batch_size', 1: 'sequence_length'}, 'text_embeds': {0: 'batch_size'},
                      'last_hidden_state': {0: 'batch_size', 1: 'sequence_length'}},
    )


def quantize_weights(src, dst, min_elements=64):
    """Weight-only int8 (per-tensor, symmetric) with DequantizeLinear in front of each large weight.

    Gives a `_quantized` file with the same inputs and outputs as the fp32 one; the real Xenova files
    use dynamic quantization instead, which matters for speed, not for the interface tested here.
    """
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(src)
    graph = model.graph
    kept, nodes = [], []
    for init in graph.initializer:
        array = numpy_helper.to_array(init)
        if array.dtype != np.float32 or array.ndim < 2 or array.size < min_elements:
            kept.append(init)
            continue
        scale = float(np.abs(array).max()) / 127.0 or 1.0
        q = np.clip(np.round(array / scale), -127, 127).astype(np.int8)
        kept.append(numpy_helper.from_array(q, init.name + '_int8'))
        kept.append(numpy_helper.from_array(np.array(scale, dtype=np.float32), init.name + '_scale'))
        kept.append(numpy_helper.from_array(np.array(0, dtype=np.int8), init.name + '_zero'))
        nodes.append(helper.make_node('DequantizeLinear', [init.name + '_int8', init.name + '_scale', init.name + '_zero'], [init.name]))
    del graph.initializer[:]
    graph.initializer.extend(kept)
    existing = list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes + existing)
    onnx.checker.check_model(model)
    onnx.save(model, dst)


def quantize_dynamic_matmuls(src, dst):
    """Dynamic int8 quantization of every MatMul with a constant weight, the way onnxruntime's
    quantize_dynamic rewrites it (DynamicQuantizeLinear on the activation, MatMulInteger, rescale).

    Written here because onnxruntime's Python package is not installed on this machine. Used by the
    benchmark to approximate the speed and memory of the Xenova `_quantized` files; embeddings
    (Gather), the patch convolution and the projections (Gemm) stay fp32.
    """
    import numpy as np
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load(src)
    graph = model.graph
    inits = {i.name: i for i in graph.initializer}
    new_nodes, drop = [], set()
    for node in graph.node:
        weight = inits.get(node.input[1]) if node.op_type == 'MatMul' and len(node.input) == 2 else None
        if weight is None or len(weight.dims) != 2:
            new_nodes.append(node)
            continue
        w = numpy_helper.to_array(weight).astype(np.float32)
        scale = float(np.abs(w).max()) / 127.0 or 1.0
        base = node.output[0]
        graph.initializer.extend([
            numpy_helper.from_array(np.clip(np.round(w / scale), -127, 127).astype(np.int8), base + '_wq'),
            numpy_helper.from_array(np.array(scale, dtype=np.float32), base + '_ws'),
            numpy_helper.from_array(np.array(0, dtype=np.int8), base + '_wzp'),
        ])
        drop.add(weight.name)
        new_nodes += [
            helper.make_node('DynamicQuantizeLinear', [node.input[0]], [base + '_xq', base + '_xs', base + '_xzp']),
            helper.make_node('MatMulInteger', [base + '_xq', base + '_wq', base + '_xzp', base + '_wzp'], [base + '_i32']),
            helper.make_node('Cast', [base + '_i32'], [base + '_f'], to=TensorProto.FLOAT),
            helper.make_node('Mul', [base + '_xs', base + '_ws'], [base + '_s']),
            helper.make_node('Mul', [base + '_f', base + '_s'], [base]),
        ]
    kept = [i for i in graph.initializer if i.name not in drop or any(i.name in n.input for n in new_nodes)]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    del graph.node[:]
    graph.node.extend(new_nodes)
    onnx.save(model, dst)
