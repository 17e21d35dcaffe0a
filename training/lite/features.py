"""Cache the frozen lower part of the MobileNetV2 backbone for the dataset's crops.

Why: on this 2-core, shared CPU a full MobileNetV2 backward pass costs ~0.5-1 s per crop, far beyond
the training budget (and PyTorch 1.13's forward is ~5x slower than onnxruntime's, so the frozen part
is exported to ONNX and run by lower-features.ts in onnxruntime-node). The lower stages (stem + inverted-residual blocks 0..CUT, 14x14 resolution) are
kept frozen and computed once per crop here; training fine-tunes the upper stage (blocks CUT+1..16 +
the 1280-channel conv) and the heads on top of this cache.

Crops are content-matched: every image of one reference uses the same crop positions, so a clean
reference and its distortions show the same pixels (what the ranking loss compares).
Positions: "centre" = the runtime crop plan with C=1; "rand", "rand2".."rand4" = seeded random
native-resolution positions per reference (training only).

    /usr/bin/python3 training/lite/features.py [--data training/data] [--jobs val:centre,test:centre,train:rand,train:centre,train:rand2,...]
"""
import argparse
import hashlib
import os
import subprocess
import sys
import time

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import CROP, crop_boxes, load_dataset, prepare_for_crops  # noqa: E402
from mobilenet_v2 import MobileNetV2Backbone  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
LOWER_SHAPE = (96, 14, 14)
CUT = 12        # blocks 0..CUT are frozen (output 96 x 14 x 14); CUT+1..16 + head are fine-tuned
SEED = 0
BATCH = 32


def lower(backbone, x_nhwc):
    x = x_nhwc.permute(0, 3, 1, 2).contiguous() / 255.0  # nsfwjs scaling: pixel / 255
    h = backbone.stem(x)
    for b in backbone.blocks[:CUT + 1]:
        h = b(h)
    return h


def seed_for(*parts):
    return int.from_bytes(hashlib.sha256("/".join(map(str, parts)).encode()).digest()[:8], "little")


EXTRA_RANDOM = 3  # rand2..rand4: more seeded positions, so the heads see more content per picture


def positions(rows):
    """ref -> {"centre": (x, y), "rand": (x, y), "rand2": ..., "rand4": ...} from the reference's size."""
    out = {}
    for r in rows:
        if r["level"] != 0:
            continue
        with Image.open(r["abs"]) as im:
            w, h = prepare_for_crops(im).size
        rng = np.random.default_rng(seed_for(SEED, r["ref"], "crop"))
        out[r["ref"]] = {"centre": crop_boxes(w, h, 1)[0],
                         "rand": (int(rng.integers(0, w - CROP + 1)), int(rng.integers(0, h - CROP + 1)))}
        for k in range(2, 2 + EXTRA_RANDOM):
            rk = np.random.default_rng(seed_for(SEED, r["ref"], "crop", k))
            out[r["ref"]][f"rand{k}"] = (int(rk.integers(0, w - CROP + 1)), int(rk.integers(0, h - CROP + 1)))
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "..", "data"))
    ap.add_argument("--jobs", default="val:centre,test:centre,train:rand,train:centre,train:rand2,train:rand3,train:rand4")
    ap.add_argument("--embed", action="store_true",
                    help="frozen variants: cache the whole frozen backbone's embedding (pooled 1280 + block-12 "
                         "mean/std 192) per crop instead of the lower features; one pass over the images per split")
    args = ap.parse_args()
    if args.embed:
        return embed_main(args)
    data = os.path.abspath(args.data)
    torch.set_num_threads(2)
    torch.manual_seed(SEED)
    rows = load_dataset(os.path.join(data, "dataset"))
    pos = positions(rows)
    cache = os.path.join(data, "cache")
    os.makedirs(cache, exist_ok=True)
    backbone = MobileNetV2Backbone(os.path.join(data, "mobilenet_v2.onnx")).eval()
    lower_onnx = os.path.join(cache, "lower.onnx")
    if not os.path.exists(lower_onnx):
        export_lower(backbone, lower_onnx)
    for job in args.jobs.split(","):
        split, where = job.split(":")
        target = os.path.join(cache, f"{split}_{where}.npy")
        if os.path.exists(target):
            print(f"features: {target} exists, skipping", file=sys.stderr)
            continue
        sel = [i for i, r in enumerate(rows) if r["split"] == split]
        t0 = time.time()
        crops_path = os.path.join(cache, f"{split}_{where}.crops.u8")
        with open(crops_path, "wb") as fh:
            for i in sel:
                r = rows[i]
                x, y = pos[r["ref"]][where]
                with Image.open(r["abs"]) as im:
                    a = np.asarray(prepare_for_crops(im.convert("RGB")))
                fh.write(np.ascontiguousarray(a[y:y + CROP, x:x + CROP]).tobytes())
        out_f32 = os.path.join(cache, f"{split}_{where}.f32")
        subprocess.run(["npx", "tsx", os.path.join(HERE, "lower-features.ts"), lower_onnx, crops_path,
                        str(len(sel)), out_f32], check=True)
        feats = np.fromfile(out_f32, np.float32).reshape(len(sel), *LOWER_SHAPE).astype(np.float16)
        np.save(target + ".tmp.npy", feats)
        np.save(os.path.join(cache, f"{split}_{where}.index.npy"), np.array(sel, np.int64))
        os.rename(target + ".tmp.npy", target)
        os.remove(out_f32)
        os.remove(crops_path)
        print(f"features: wrote {target} {feats.shape} in {time.time() - t0:.0f}s", file=sys.stderr)


EMBED_DIM = 1280 + 2 * 96


class Embed(torch.nn.Module):
    """The frozen backbone as converted: NHWC 0..255 -> [N, 1472] = pooled ‖ block-12 mean ‖ block-12 std
    (the image embedding of the frozen variants; export.py computes the same inside quality.onnx)."""

    def __init__(self, backbone):
        super().__init__()
        self.backbone = backbone

    def forward(self, x_nhwc):
        low = lower(self.backbone, x_nhwc)
        h = low
        for b in self.backbone.blocks[CUT + 1:]:
            h = b(h)
        pooled = self.backbone.head(h).mean(dim=(2, 3))
        return torch.cat([pooled, low.mean(dim=(2, 3)), low.std(dim=(2, 3))], dim=1)


def embed_main(args):
    """One pass over each split's images: crops at every requested position, then the frozen embedding in
    onnxruntime (2 threads). Writes cache/<split>_<position>.emb.npy (float32) and .index.npy."""
    data = os.path.abspath(args.data)
    torch.set_num_threads(2)
    rows = load_dataset(os.path.join(data, "dataset"))
    pos = positions(rows)
    cache = os.path.join(data, "cache")
    os.makedirs(cache, exist_ok=True)
    onnx_path = os.path.join(cache, "embed.onnx")
    if not os.path.exists(onnx_path):
        backbone = MobileNetV2Backbone(os.path.join(data, "mobilenet_v2.onnx")).eval()
        torch.onnx.export(Embed(backbone).eval(), torch.rand(2, CROP, CROP, 3) * 255, onnx_path, opset_version=17,
                          input_names=["crops"], output_names=["embedding"],
                          dynamic_axes={"crops": {0: "N"}, "embedding": {0: "N"}})
    by_split = {}
    for job in args.jobs.split(","):
        split, where = job.split(":")
        by_split.setdefault(split, []).append(where)
    for split, wheres in by_split.items():
        todo = [w for w in wheres if not os.path.exists(os.path.join(cache, f"{split}_{w}.emb.npy"))]
        if not todo:
            continue
        sel = [i for i, r in enumerate(rows) if r["split"] == split]
        t0 = time.time()
        handles = {w: open(os.path.join(cache, f"{split}_{w}.crops.u8"), "wb") for w in todo}
        for i in sel:
            r = rows[i]
            with Image.open(r["abs"]) as im:
                a = np.asarray(prepare_for_crops(im.convert("RGB")))
            for w in todo:
                x, y = pos[r["ref"]][w]
                handles[w].write(np.ascontiguousarray(a[y:y + CROP, x:x + CROP]).tobytes())
        for fh in handles.values():
            fh.close()
        print(f"features: {split} crops for {todo} in {time.time() - t0:.0f}s", file=sys.stderr)
        for w in todo:
            crops_path = os.path.join(cache, f"{split}_{w}.crops.u8")
            out_f32 = os.path.join(cache, f"{split}_{w}.emb.f32")
            subprocess.run(["npx", "tsx", os.path.join(HERE, "lower-features.ts"), onnx_path, crops_path,
                            str(len(sel)), out_f32], check=True)
            feats = np.fromfile(out_f32, np.float32).reshape(len(sel), EMBED_DIM)
            target = os.path.join(cache, f"{split}_{w}.emb.npy")
            np.save(os.path.join(cache, f"{split}_{w}.index.npy"), np.array(sel, np.int64))
            np.save(target + ".tmp.npy", feats)
            os.rename(target + ".tmp.npy", target)
            os.remove(out_f32)
            os.remove(crops_path)
            print(f"features: wrote {target} {feats.shape} at {time.time() - t0:.0f}s", file=sys.stderr)


class Lower(torch.nn.Module):
    """Frozen lower backbone with the pixel scaling inside: NHWC 0..255 -> [N, 96, 14, 14]."""

    def __init__(self, backbone):
        super().__init__()
        self.backbone = backbone

    def forward(self, x_nhwc):
        return lower(self.backbone, x_nhwc)


def export_lower(backbone, path):
    torch.onnx.export(Lower(backbone).eval(), torch.rand(2, CROP, CROP, 3) * 255, path, opset_version=17,
                      input_names=["crops"], output_names=["lower"], dynamic_axes={"crops": {0: "N"}, "lower": {0: "N"}})
    # Sanity: the exported graph must be the same computation as the port.
    x = torch.rand(1, CROP, CROP, 3) * 255
    with torch.no_grad():
        ref = lower(backbone, x)
    print(f"features: exported {path}; port output mean {float(ref.mean()):.5f}", file=sys.stderr)

if __name__ == "__main__":
    main()
