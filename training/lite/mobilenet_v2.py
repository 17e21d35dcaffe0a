"""PyTorch port of nsfwjs's MobileNetV2 backbone (keras 2.2.4 MobileNetV2, alpha 1.0, 224 px).

Mirrors the keras graph layer for layer -- asymmetric ZeroPadding2D ((0,1),(0,1)) before the
stride-2 convolutions, ReLU6, residual adds -- with BatchNormalization already folded into each
convolution's weight and bias, exactly as tools/tfjs-to-onnx writes them. Weights come from that
converted ONNX file's initializers ("<keras conv layer>/kernel", "<keras conv layer>/bias"), so
the port and the ONNX model used at run time agree to float32 rounding.

Input: float32 NHWC RGB scaled like nsfwjs feeds it (pixel / 255, range [0, 1]).
Output: (pooled [N, 1280], spatial [N, 1280, 7, 7]) -- the last feature map after its ReLU6 and
its global average. The folded convolutions have biases, so every layer stays trainable.
"""
from __future__ import annotations

from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

# (expansion t, output channels c, repeats n, first stride s) of MobileNetV2, alpha 1.0.
INVERTED_RESIDUAL_SETTINGS = [
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
]
STEM_CHANNELS = 32
FEATURE_CHANNELS = 1280


def _pad_then_stride(x: torch.Tensor) -> torch.Tensor:
    # keras pads one row/column at the bottom/right only before its stride-2 3x3 convolutions.
    return F.pad(x, (0, 1, 0, 1))


class _ConvReLU6(nn.Module):
    """One keras convolution (BN folded in) and, optionally, its ReLU6."""

    def __init__(self, name: str, cin: int, cout: int, kernel: int, stride: int, depthwise: bool, relu6: bool):
        super().__init__()
        self.keras_name = name
        self.stride = stride
        # stride 2 → explicit asymmetric pad + valid conv; stride 1 3x3 → keras "same" = symmetric 1.
        padding = 0 if stride == 2 or kernel == 1 else kernel // 2
        self.conv = nn.Conv2d(cin, cout, kernel, stride=stride, padding=padding, groups=cin if depthwise else 1, bias=True)
        self.relu6 = relu6

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == 2:
            x = _pad_then_stride(x)
        x = self.conv(x)
        return F.relu6(x) if self.relu6 else x


class _InvertedResidual(nn.Module):
    def __init__(self, block_id: int, cin: int, cout: int, expansion: int, stride: int):
        super().__init__()
        prefix = f"block_{block_id}_" if block_id > 0 else "expanded_conv_"
        hidden = cin * expansion
        self.expand = _ConvReLU6(f"{prefix}expand", cin, hidden, 1, 1, False, True) if expansion != 1 else None
        self.depthwise = _ConvReLU6(f"{prefix}depthwise", hidden, hidden, 3, stride, True, True)
        self.project = _ConvReLU6(f"{prefix}project", hidden, cout, 1, 1, False, False)
        self.residual = stride == 1 and cin == cout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.expand(x) if self.expand is not None else x
        y = self.project(self.depthwise(y))
        return x + y if self.residual else y


class MobileNetV2Backbone(nn.Module):
    """nsfwjs's MobileNetV2 feature extractor. `MobileNetV2Backbone(onnx_path)` loads the weights
    of the converted ONNX file; `MobileNetV2Backbone()` builds it with PyTorch's default init."""

    def __init__(self, onnx_path: str | Path | None = None):
        super().__init__()
        self.stem = _ConvReLU6("Conv1", 3, STEM_CHANNELS, 3, 2, False, True)
        blocks = []
        cin, block_id = STEM_CHANNELS, 0
        for t, c, n, s in INVERTED_RESIDUAL_SETTINGS:
            for i in range(n):
                blocks.append(_InvertedResidual(block_id, cin, c, t, s if i == 0 else 1))
                cin, block_id = c, block_id + 1
        self.blocks = nn.Sequential(*blocks)
        self.head = _ConvReLU6("Conv_1", cin, FEATURE_CHANNELS, 1, 1, False, True)
        if onnx_path is not None:
            self.load_onnx(onnx_path)

    def keras_convs(self) -> dict[str, nn.Conv2d]:
        """The convolutions by their keras layer names (the ONNX initializers' prefixes)."""
        return {m.keras_name: m.conv for m in self.modules() if isinstance(m, _ConvReLU6)}

    @torch.no_grad()
    def load_onnx(self, onnx_path: str | Path) -> None:
        """Copies "<name>/kernel" and "<name>/bias" initializers into the convolutions.
        Raises ValueError naming every missing or mis-shaped tensor."""
        import onnx
        from onnx import numpy_helper

        model = onnx.load(str(onnx_path))
        inits = {t.name: t for t in model.graph.initializer}
        problems = []
        for name, conv in self.keras_convs().items():
            for suffix, param in (("kernel", conv.weight), ("bias", conv.bias)):
                key = f"{name}/{suffix}"
                if key not in inits:
                    problems.append(f"{key} is missing")
                    continue
                array = numpy_helper.to_array(inits[key])
                if tuple(array.shape) != tuple(param.shape):
                    problems.append(f"{key} has shape {tuple(array.shape)}, expected {tuple(param.shape)}")
                    continue
                param.copy_(torch.from_numpy(array.copy()))
        if problems:
            raise ValueError(f"{onnx_path} does not fit MobileNetV2Backbone: " + "; ".join(problems))

    def forward(self, x_nhwc: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if x_nhwc.dim() != 4 or x_nhwc.shape[-1] != 3:
            raise ValueError(f"expected input [N, H, W, 3] (NHWC, pixel / 255), got {list(x_nhwc.shape)}")
        x = x_nhwc.permute(0, 3, 1, 2)
        spatial = self.head(self.blocks(self.stem(x)))
        pooled = spatial.mean(dim=(2, 3))
        return pooled, spatial
