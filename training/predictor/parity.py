"""Writes a randomly initialised predictor, random inputs and PyTorch's outputs, for the TS parity test.

    /usr/bin/python3 training/predictor/parity.py --out DIR [--kind xlstm] [--seed 0]
DIR gets predictor.onnx, config.json and case.json ({inputs: {name: {dims, data}}, expected: {...}}).
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import ASPECTS, M3Predictor, PredictorConfig, export_onnx  # noqa: E402


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--kind", default="xlstm")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--token-dim", type=int, default=24)
    parser.add_argument("--tokens", type=int, default=9)
    parser.add_argument("--evidence", type=int, default=7)
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--width", type=int, default=32)
    parser.add_argument("--blocks", type=int, default=3)
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    torch.set_num_threads(1)
    config = PredictorConfig(token_dim=args.token_dim, tokens=args.tokens, evidence=args.evidence, kind=args.kind, width=args.width, blocks=args.blocks)
    model = M3Predictor(config)
    with torch.no_grad():
        # non-trivial statistics, so the baked-in standardisation is exercised too
        model.round_mean.normal_(0, 0.5)
        model.round_std.uniform_(0.5, 2.0)
    model.eval()
    tokens = torch.randn(args.batch, args.tokens, args.token_dim) * 3
    rounds = torch.randn(args.batch, len(ASPECTS), config.round_width) * 2
    mask = torch.ones(args.batch, len(ASPECTS))
    mask[1, 1:] = 0  # a pack with quality only (the lite pack)
    mask[2, 2] = 0
    with torch.no_grad():
        expected = model(tokens, rounds, mask)
    os.makedirs(args.out, exist_ok=True)
    export_onnx(model, os.path.join(args.out, "predictor.onnx"))

    def tensor(t):
        return {"dims": list(t.shape), "data": [float(v) for v in t.flatten().tolist()]}

    with open(os.path.join(args.out, "case.json"), "w") as f:
        json.dump({"inputs": {"image_tokens": tensor(tokens), "rounds": tensor(rounds), "round_mask": tensor(mask)}, "expected": {"mos": tensor(expected)}}, f)
    with open(os.path.join(args.out, "config.json"), "w") as f:
        json.dump(config.to_json(), f)


if __name__ == "__main__":
    main()
