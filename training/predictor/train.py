"""Trains the M3 predictor (and the ablation baseline) on a feature bundle written by `agiqa train`.

    /usr/bin/python3 training/predictor/train.py --bundle DIR --out DIR [--kinds xlstm,mlp] [--seed 42]

The bundle (little-endian float32, row-major):
  meta.json     {"count", "tokens", "tokenDim", "evidenceWidth", "splits": ["train"|"val"|"test", ...]}
  tokens.f32    [count, tokens, tokenDim]
  rounds.f32    [count, 3, 5 + evidenceWidth]
  mask.f32      [count, 3]
  targets.f32   [count, 4]   MOS per aspect then overall; NaN where the dataset has no rating
Writes predictor-<kind>.onnx for each kind and train-log.json. Model selection (early stopping) uses
the val split only; the test split is never read here, so `agiqa train` can report it honestly.
Progress goes to stderr as one line per epoch.
"""
import argparse
import json
import math
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import ASPECTS, M3Predictor, PredictorConfig, export_onnx  # noqa: E402


def load_bundle(path):
    with open(os.path.join(path, "meta.json")) as f:
        meta = json.load(f)
    n, t, d, e = meta["count"], meta["tokens"], meta["tokenDim"], meta["evidenceWidth"]
    r = len(ASPECTS)

    def read(name, shape):
        data = np.fromfile(os.path.join(path, name), dtype="<f4")
        expected = int(np.prod(shape))
        if data.size != expected:
            raise SystemExit(f"{name}: expected {expected} float32 values for shape {shape} but found {data.size}")
        return torch.from_numpy(data.reshape(shape).copy())

    return meta, {
        "tokens": read("tokens.f32", (n, t, d)),
        "rounds": read("rounds.f32", (n, r, 5 + e)),
        "mask": read("mask.f32", (n, r)),
        "targets": read("targets.f32", (n, r + 1)),
    }


def masked_mse(pred, target):
    valid = ~torch.isnan(target)
    diff = torch.where(valid, pred - torch.nan_to_num(target), torch.zeros_like(pred))
    return (diff * diff).sum() / valid.sum().clamp_min(1)


def subset(data, index):
    return {k: v[index] for k, v in data.items()}


def evaluate(model, data, batch):
    model.eval()
    losses, weights = [], []
    with torch.no_grad():
        for start in range(0, data["tokens"].shape[0], batch):
            part = {k: v[start : start + batch] for k, v in data.items()}
            pred = model(part["tokens"], part["rounds"], part["mask"])
            valid = (~torch.isnan(part["targets"])).sum().item()
            if valid > 0:
                losses.append(masked_mse(pred, part["targets"]).item() * valid)
                weights.append(valid)
    return sum(losses) / max(1, sum(weights)) if weights else float("nan")


def train_kind(kind, meta, data, args):
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    splits = np.array(meta["splits"])
    train_index = torch.from_numpy(np.nonzero(splits == "train")[0])
    val_index = torch.from_numpy(np.nonzero(splits == "val")[0])
    train, val = subset(data, train_index), subset(data, val_index)
    if train["tokens"].shape[0] == 0:
        raise SystemExit("the train split is empty")
    config = PredictorConfig(
        token_dim=meta["tokenDim"], tokens=meta["tokens"], evidence=meta["evidenceWidth"], kind=kind,
        width=args.width, blocks=args.blocks, heads=args.heads, dropout=args.dropout,
    )
    model = M3Predictor(config)
    model.set_round_statistics(train["rounds"], train["mask"])
    model.set_output_bias(torch.nan_to_num(torch.nanmean(train["targets"], dim=0), nan=2.5))
    optimiser = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=max(1, args.epochs))
    use_val = val["tokens"].shape[0] > 0
    best = (math.inf, 0, None)
    history = []
    generator = torch.Generator().manual_seed(args.seed)
    started = time.time()
    for epoch in range(1, args.epochs + 1):
        model.train()
        order = torch.randperm(train["tokens"].shape[0], generator=generator)
        total, count = 0.0, 0
        for start in range(0, order.shape[0], args.batch):
            part = subset(train, order[start : start + args.batch])
            loss = masked_mse(model(part["tokens"], part["rounds"], part["mask"]), part["targets"])
            optimiser.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
            total += loss.item() * part["tokens"].shape[0]
            count += part["tokens"].shape[0]
        schedule.step()
        train_loss = total / max(1, count)
        val_loss = evaluate(model, val, args.batch) if use_val else train_loss
        history.append({"epoch": epoch, "trainMse": round(train_loss, 5), "valMse": round(val_loss, 5)})
        print(f"{kind} epoch {epoch}/{args.epochs} train mse {train_loss:.4f} val mse {val_loss:.4f}", file=sys.stderr, flush=True)
        if val_loss < best[0]:
            best = (val_loss, epoch, {k: v.clone() for k, v in model.state_dict().items()})
        elif epoch - best[1] >= args.patience:
            break
    model.load_state_dict(best[2])
    path = os.path.join(args.out, f"predictor-{kind}.onnx")
    export_onnx(model, path)
    return {
        "kind": kind,
        "file": os.path.basename(path),
        "bestEpoch": best[1],
        "epochsRun": len(history),
        "bestValMse": round(best[0], 5),
        "selection": "val mse" if use_val else "train mse (no val split)",
        "parameters": sum(p.numel() for p in model.parameters()),
        "seconds": round(time.time() - started, 1),
        "config": config.to_json(),
        "history": history,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bundle", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("--kinds", default="xlstm,mlp")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--patience", type=int, default=12)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--weight-decay", type=float, default=1e-5)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--blocks", type=int, default=3)
    parser.add_argument("--heads", type=int, default=4)
    parser.add_argument("--dropout", type=float, default=0.1)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    os.makedirs(args.out, exist_ok=True)
    meta, data = load_bundle(args.bundle)
    results = {kind: train_kind(kind, meta, data, args) for kind in args.kinds.split(",")}
    log = {"seed": args.seed, "torch": torch.__version__, "hyper": {k: v for k, v in vars(args).items() if k not in ("bundle", "out")}, "kinds": results}
    with open(os.path.join(args.out, "train-log.json"), "w") as f:
        json.dump(log, f, indent=2)


if __name__ == "__main__":
    main()
