"""Export the selected lite quality model as one ONNX file with the runtime's I/O contract.

inputs : crops   float32 [C,224,224,3]  native-resolution RGB crops, 0..255 (scaled inside)
         signals float32 [1,F]          raw classical signals (standardized inside, train mean/std)
outputs: quality_logits [1,5] (bad..excellent), quality_mos [1] = softmax . [0.5..4.5],
         pooled [1,1280] (mean over crops), spatial [C,1280,7,7]

    /usr/bin/python3 training/lite/export.py [--variant finetune_signals] [--out models/lite/quality.onnx]
Also writes training/data/quality.reference.json: torch outputs on a few test images for verify-onnx.ts.
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
from PIL import Image
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import LEVEL_CENTRES, load_dataset, load_signals, plan_crops  # noqa: E402
from features import CUT  # noqa: E402
from mobilenet_v2 import MobileNetV2Backbone  # noqa: E402
from train import LOWER_STATS, SIGNAL_CLIP, HeadEnsemble, QualityHead, Tail, lower_stats  # noqa: E402


class LiteQuality(nn.Module):
    def __init__(self, backbone, head, mean, std, use_lower_stats=False):
        super().__init__()
        self.backbone = backbone
        self.use_lower_stats = use_lower_stats
        self.head = head
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32)[None, :])
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32)[None, :])
        self.register_buffer("centres", torch.as_tensor(LEVEL_CENTRES)[None, :])

    def forward(self, crops, signals):
        x = (crops / 255.0).permute(0, 3, 1, 2)  # nsfwjs scaling: pixel / 255; NHWC -> NCHW
        low = self.backbone.stem(x)
        for block in self.backbone.blocks[:CUT + 1]:
            low = block(low)
        h = low
        for block in self.backbone.blocks[CUT + 1:]:
            h = block(h)
        spatial = self.backbone.head(h)
        pooled = spatial.mean(dim=(2, 3)).mean(dim=0, keepdim=True)
        embedding = pooled
        if self.use_lower_stats:
            embedding = torch.cat([pooled, lower_stats(low).mean(dim=0, keepdim=True)], dim=1)
        t = torch.sign(signals) * torch.log1p(torch.abs(signals))  # same as train.signed_log
        z = torch.clamp((t - self.mean) / self.std, -SIGNAL_CLIP, SIGNAL_CLIP)
        logits = self.head(embedding, z)
        mos = (torch.softmax(logits, dim=1) * self.centres).sum(dim=1)
        return logits, mos, pooled, spatial


def build(data, variant):
    state = torch.load(os.path.join(data, "runs", variant, "best.pt"))
    backbone = MobileNetV2Backbone(os.path.join(data, "mobilenet_v2.onnx"))
    tail = Tail(backbone)
    tail.load_state_dict(state["tail"])
    # Put the fine-tuned upper stage back into the full backbone.
    for k, blk in enumerate(tail.blocks):
        backbone.blocks[CUT + 1 + k].load_state_dict(blk.state_dict())
    backbone.head.load_state_dict(tail.head.state_dict())
    meta = state["signals"]
    heads = []
    use_lower = bool(state.get("lowerStats", False))
    for sd in state.get("heads", [state["head"]]):
        heads.append(QualityHead(len(meta["names"]), True, True, img_dim=1280 + (LOWER_STATS if use_lower else 0)))
        heads[-1].load_state_dict(sd)
    head = HeadEnsemble(heads) if len(heads) > 1 else heads[0]
    model = LiteQuality(backbone, head, meta["mean"], meta["std"], use_lower).eval()
    return model, meta


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "data")))
    ap.add_argument("--variant", default="finetune_signals")
    ap.add_argument("--out", default=os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..",
                                                                   "models", "lite", "quality.onnx")))
    ap.add_argument("--crops", type=int, default=1)
    ap.add_argument("--reference", default=None, help="default: <data>/quality.reference.json")
    args = ap.parse_args()
    reference = args.reference or os.path.join(args.data, "quality.reference.json")
    model, meta = build(args.data, args.variant)
    n_sig = len(meta["names"])
    crops = torch.rand(2, 224, 224, 3) * 255
    sig = torch.zeros(1, n_sig)
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    torch.onnx.export(model, (crops, sig), args.out, opset_version=17,
                      input_names=["crops", "signals"],
                      output_names=["quality_logits", "quality_mos", "pooled", "spatial"],
                      dynamic_axes={"crops": {0: "C"}, "spatial": {0: "C"}}, do_constant_folding=True)
    # The exporter leaves spatial's 7x7 as symbolic names; pin them so the declared shape is exact.
    import onnx
    m = onnx.load(args.out)
    for out in m.graph.output:
        if out.name == "spatial":
            for axis, size in ((1, 1280), (2, 7), (3, 7)):
                out.type.tensor_type.shape.dim[axis].Clear()
                out.type.tensor_type.shape.dim[axis].dim_value = size
    onnx.checker.check_model(m)
    onnx.save(m, args.out)
    # Reference outputs for the ORT check: a few test images, their crops and raw signals.
    rows = [r for r in load_dataset(os.path.join(args.data, "dataset")) if r["split"] == "test"]
    arr, _, index = load_signals(os.path.join(args.data, "signals", "signals"))
    picks = [r for r in rows if r["level"] in (0, 1)][:3] + [r for r in rows if r["level"] == 4][:2]
    ref = []
    for r in picks:
        c = plan_crops(Image.open(r["abs"]), args.crops)
        s = arr[index[os.path.realpath(r["abs"])]][None, :]
        with torch.no_grad():
            logits, mos, pooled, spatial = model(torch.from_numpy(c).float(), torch.from_numpy(s))
        ref.append({"image": r["abs"], "crops": args.crops, "signals": s[0].tolist(),
                    "quality_logits": logits[0].tolist(), "quality_mos": float(mos[0]),
                    "pooled_head": pooled[0, :16].tolist(), "spatial_sum": float(spatial.sum())})
    json.dump({"onnx": args.out, "cases": ref}, open(reference, "w"))
    print(f"export: wrote {args.out} ({os.path.getsize(args.out)} bytes), {len(ref)} reference cases",
          file=sys.stderr)


if __name__ == "__main__":
    main()
