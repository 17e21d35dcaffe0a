"""Parity check of training/lite/mobilenet_v2.py against onnxruntime.

  npx tsx tools/tfjs-to-onnx/dump-reference.ts --model training/data/mobilenet_v2.onnx --out-dir /tmp/ref
  /usr/bin/python3 training/lite/check_port.py --model training/data/mobilenet_v2.onnx --ref-dir /tmp/ref

Reads the input and ORT's outputs (raw little-endian float32 + reference.json), runs the PyTorch
port on the same input, prints the max |diff| of pooled and spatial and exits 1 above --tolerance.
Then takes one backward step to show that every parameter receives a gradient (fine-tunable).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mobilenet_v2 import MobileNetV2Backbone  # noqa: E402


def read_f32(ref_dir: Path, name: str, shape: list[int]) -> np.ndarray:
    return np.fromfile(ref_dir / f"{name}.f32", dtype="<f4").reshape(shape)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, help="the converted ONNX file")
    parser.add_argument("--ref-dir", required=True, help="output directory of dump-reference.ts")
    parser.add_argument("--tolerance", type=float, default=1e-4)
    parser.add_argument("--skip-backward", action="store_true", help="skip the gradient check")
    args = parser.parse_args()

    ref_dir = Path(args.ref_dir)
    shapes = json.loads((ref_dir / "reference.json").read_text())["shapes"]
    x = torch.from_numpy(read_f32(ref_dir, "input", shapes["input"]).copy())
    want_pooled = read_f32(ref_dir, "pooled", shapes["pooled"])
    want_spatial = read_f32(ref_dir, "spatial", shapes["spatial"])  # NHWC

    torch.manual_seed(0)
    model = MobileNetV2Backbone(args.model).eval()
    with torch.no_grad():
        pooled, spatial = model(x)
    diffs = {
        "pooled": float(np.abs(pooled.numpy() - want_pooled).max()),
        "spatial": float(np.abs(spatial.permute(0, 2, 3, 1).numpy() - want_spatial).max()),
    }
    ok = all(d <= args.tolerance for d in diffs.values())

    without_grad = []
    if not args.skip_backward:
        model.train()
        pooled, _ = model(x[:1])
        pooled.square().mean().backward()
        without_grad = [n for n, p in model.named_parameters() if p.grad is None or not torch.isfinite(p.grad).all()]

    print(json.dumps({"max_abs_diff": diffs, "tolerance": args.tolerance, "parameters": sum(p.numel() for p in model.parameters()),
                      "parameters_without_gradient": without_grad, "ok": ok and not without_grad}))
    return 0 if ok and not without_grad else 1


if __name__ == "__main__":
    sys.exit(main())
