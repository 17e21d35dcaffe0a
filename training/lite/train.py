"""Train the lite quality model (and its ablations) on the cached lower-backbone features.

Variants (all share heads, losses, sampler, seeds and the val-SRCC checkpoint choice):
  finetune_signals  upper MobileNetV2 stage fine-tuned + classical signals   (the shipped model)
  finetune_only     upper stage fine-tuned, no signals
  frozen_signals    backbone frozen (as converted) + signals
  signals_only      MLP on the classical signals alone

    /usr/bin/python3 training/lite/train.py --variant finetune_signals [--epochs 6] [--minutes 30]
Writes training/data/runs/<variant>/{best.pt,log.jsonl,metrics.json}.
"""
import argparse
import copy
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import LEVEL_CENTRES, evaluate, load_dataset, load_signals, soft_labels  # noqa: E402
from features import CUT  # noqa: E402
from mobilenet_v2 import MobileNetV2Backbone  # noqa: E402

SEED = 0
GROUP = 8            # one clean crop + 7 distorted crops of the same reference and position
GROUPS_PER_BATCH = 6
LEVEL_WEIGHTS = np.array([0.30, 0.25, 0.18, 0.15, 0.12])  # favour the mild levels: they are the hard part
SIGNAL_CLIP = 8.0


def signed_log(x):
    """sign(x)·log(1+|x|): tames the heavy tails of some signals (MSCN variances reach 240) before
    standardization; export.py applies the same transform inside the ONNX graph."""
    return np.sign(x) * np.log1p(np.abs(x))


class Tail(nn.Module):
    """The fine-tuned upper part of the backbone: blocks CUT+1..16 and the 1280-channel conv."""

    def __init__(self, backbone):
        super().__init__()
        self.blocks = copy.deepcopy(backbone.blocks[CUT + 1:])
        self.head = copy.deepcopy(backbone.head)

    def forward(self, h):
        spatial = self.head(self.blocks(h))
        return spatial.mean(dim=(2, 3)), spatial


class QualityHead(nn.Module):
    """Image embedding (1280) and/or standardized signals -> 5 level logits."""

    def __init__(self, n_signals, use_image, use_signals, img_drop=0.2, sig_drop=0.1, in_drop=0.0, img_dim=1280):
        super().__init__()
        self.use_image, self.use_signals = use_image, use_signals
        width = 0
        if use_image:
            self.img = nn.Sequential(nn.Dropout(img_drop), nn.Linear(img_dim, 128), nn.ReLU())
            width += 128
        if use_signals:
            # Dropout on the standardized signals themselves: with ~60 training pictures the MLP
            # otherwise leans on a few signals that identify a picture rather than its degradation.
            self.sig_in = nn.Dropout(in_drop)
            self.sig = nn.Sequential(nn.Linear(n_signals, 128), nn.ReLU(), nn.Dropout(sig_drop),
                                     nn.Linear(128, 64), nn.ReLU())
            width += 64
        self.out = nn.Sequential(nn.Linear(width, 64), nn.ReLU(), nn.Linear(64, 5))

    def forward(self, pooled, signals):
        parts = []
        if self.use_image:
            parts.append(self.img(pooled))
        if self.use_signals:
            parts.append(self.sig(self.sig_in(signals)))
        return self.out(torch.cat(parts, dim=1))


LOWER_STATS = 2 * 96  # per-channel mean and std of the frozen block-12 output (14x14)


def lower_stats(lower):
    """[N, 96, 14, 14] -> [N, 192]: mean and (unbiased) std over the 14x14 positions. Mid-level
    statistics keep the fine texture (mild noise, sharpening halos) that the 7x7 stage averages away."""
    return torch.cat([lower.mean(dim=(2, 3)), lower.std(dim=(2, 3))], dim=1)


class HeadEnsemble(nn.Module):
    """Several heads trained with different seeds on the same features; their logits are averaged
    (the MOS is the expectation under the softmax of the mean logits)."""

    def __init__(self, heads):
        super().__init__()
        self.heads = nn.ModuleList(heads)

    def forward(self, pooled, signals):
        return torch.stack([h(pooled, signals) for h in self.heads]).mean(dim=0)


def mos_of(logits):
    return (F.softmax(logits, dim=1) * torch.as_tensor(LEVEL_CENTRES)).sum(dim=1)


def batch_ids(batch):
    """The dataset rows of a batch of groups (one reference and crop position each), in order."""
    return [i for _, g in batch for i in g]


def fit_batch(logits, data, batch, args, opt, sched):
    """One optimiser step on a batch's loss (the targets: each crop's group, level and MOS); frozen-feature
    training and fine-tuning (finetune.py) share it, so a loss option reaches both. Returns the loss and
    its parts."""
    ids = batch_ids(batch)
    refs_pos = torch.tensor([gi for gi, (_, g) in enumerate(batch) for _ in g])
    levels = torch.tensor([data.rows[i]["level"] for i in ids])
    mos = torch.tensor([data.rows[i]["mos"] for i in ids], dtype=torch.float32)
    loss, parts = losses(logits, mos, refs_pos, levels, args.clean_weight, args.rank_weight,
                         args.clean_pair_weight, args.clean_pair_margin)
    opt.zero_grad()
    loss.backward()
    opt.step()
    sched.step()
    return float(loss), parts


def losses(logits, mos_target, refs_pos, levels, clean_weight=1.0, rank_weight=1.0,
           clean_pair_weight=0.0, clean_pair_margin=0.5):
    pred = mos_of(logits)
    # clean_weight > 1 counts each clean crop that many times in CE and MSE (a batch holds 1 clean in 8).
    w = torch.where(levels == 0, torch.tensor(float(clean_weight)), torch.tensor(1.0))
    w = w / w.mean()
    ce = (-(soft_labels(mos_target) * F.log_softmax(logits, dim=1)).sum(dim=1) * w).mean()
    mse = (((pred - mos_target) ** 2) * w).mean()
    # Ranking: within one reference+position, a lower level must score higher by a margin.
    same = refs_pos[:, None] == refs_pos[None, :]
    better = levels[:, None] < levels[None, :]
    mask = same & better
    if mask.any():
        diff = pred[:, None] - pred[None, :]
        margin = 0.25 * (levels[None, :] - levels[:, None]).clamp(max=2).float()
        rank = F.relu(margin - diff)[mask].mean()
    else:
        rank = torch.zeros(())
    # Clean vs level 1 of the same reference+position, the pair the mild-pair accuracy counts: an extra
    # hinge with its own (larger) margin, so the heads do not trade these pairs for SRCC elsewhere.
    pairs = same & (levels[:, None] == 0) & (levels[None, :] == 1)
    clean_pair = torch.zeros(())
    if clean_pair_weight > 0 and pairs.any():
        clean_pair = F.relu(clean_pair_margin - (pred[:, None] - pred[None, :]))[pairs].mean()
    total = ce + mse + rank_weight * rank + clean_pair_weight * clean_pair
    return total, {"ce": float(ce), "mse": float(mse), "rank": float(rank), "cleanPair": float(clean_pair)}


class Data:
    """Rows, cached features per (split, position), standardized signals."""

    def __init__(self, data, use_signals, extra=None, drop=()):
        self.rows = load_dataset(os.path.join(data, "dataset"))
        self.cache, self.emb = {}, {}
        for name in sorted(os.listdir(os.path.join(data, "cache"))):
            if name.endswith(".index.npy"):
                key = name[:-len(".index.npy")]
                index = {int(i): k for k, i in enumerate(np.load(os.path.join(data, "cache", name)))}
                emb = os.path.join(data, "cache", key + ".emb.npy")
                if os.path.exists(emb):  # features.py --embed: the frozen embedding itself
                    self.emb[key] = (np.load(emb), index)
                else:
                    self.cache[key] = (np.load(os.path.join(data, "cache", key + ".npy"), mmap_mode="r"), index)
        n = len(self.rows)
        self.signals = np.zeros((n, 1), np.float32)
        self.signal_meta = None
        if use_signals:
            arr, meta, index = load_signals(os.path.join(data, "signals", "signals"))
            idx = [index[os.path.realpath(r["abs"])] for r in self.rows]
            arr, names = arr[idx].astype(np.float64), list(meta["names"])
            if drop:  # ablation: the same signals without these columns (before any --extra-signals)
                missing = sorted(set(drop) - set(names))
                if missing:
                    raise SystemExit(f"--drop-signals: no signal named {', '.join(missing)}")
                keep = [j for j, n in enumerate(names) if n not in drop]
                arr, names = arr[:, keep], [names[j] for j in keep]
                meta = dict(meta, names=names, version=f"{meta.get('version')}-{'-'.join(drop)}")
            if extra:  # candidate signals (probe_signals.py), rows in dataset.csv order, appended
                probe = json.load(open(extra[0] + ".json"))
                if probe["paths"] != [r["path"] for r in self.rows]:
                    raise SystemExit(f"{extra[0]}.json: rows are not dataset.csv's")
                cols = [probe["names"].index(c) for c in extra[1]] if extra[1] else list(range(len(probe["names"])))
                arr = np.concatenate([arr, np.load(extra[0] + ".npy")[:, cols].astype(np.float64)], axis=1)
                names += [probe["names"][c] for c in cols]
                meta = dict(meta, names=names, version=f"{meta.get('version')}+probe")
            raw = signed_log(arr)
            train = np.array([r["split"] == "train" for r in self.rows])
            finite = np.isfinite(raw)
            mean = np.array([raw[train & finite[:, j], j].mean() for j in range(raw.shape[1])])
            std = np.array([raw[train & finite[:, j], j].std() for j in range(raw.shape[1])])
            std[~(std > 1e-8)] = 1.0
            raw = np.where(finite, raw, mean[None, :])
            self.signals = np.clip((raw - mean) / std, -SIGNAL_CLIP, SIGNAL_CLIP).astype(np.float32)
            self.signal_meta = {"names": meta["names"], "version": meta.get("version"),
                                "mean": mean.tolist(), "std": std.tolist()}

    def split_rows(self, split):
        return [i for i, r in enumerate(self.rows) if r["split"] == split]

    def restrict_train(self, packages=None, exclude_types=(), fold=None, exclude_groups=()):
        """Ablations: keep only some training rows (other packages' or excluded types' rows leave train).
        `fold` = (k, n): leave out the training pictures whose group hash is k mod n (cross-fitting).
        `exclude_groups`: pictures left out (e.g. the package cap's surplus pool)."""
        for r in self.rows:
            if r["split"] != "train":
                continue
            out_of_fold = fold is not None and int(r["group"], 16) % fold[1] == fold[0]
            if (packages is not None and r["package"] not in packages) or r["distortion"] in exclude_types or out_of_fold \
                    or r["group"] in exclude_groups:
                r["split"] = "train-unused"

    def feats(self, key, row_ids):
        feats, pos = self.cache[key]
        return torch.from_numpy(np.stack([np.asarray(feats[pos[i]], np.float32) for i in row_ids]))

    def epoch_groups(self, rng, keys, per_ref=None, package_cap=0):
        """Groups of GROUP rows (clean first) per (reference, position), shuffled; `per_ref` keeps
        only that many groups of each reference (a partial pass, so an epoch fits the CPU budget).
        `package_cap` > 0: a package with more training pictures than that gives a fresh random draw of
        that many pictures per epoch (sampling weights instead of a hard cap: over the epochs every picture
        is seen, but no package dominates an epoch)."""
        groups = []
        by_ref = {}
        keep = None
        if package_cap:
            pics = {}
            for r in self.rows:
                if r["split"] == "train":
                    pics.setdefault(r["package"], set()).add(r["group"])
            keep = set()
            for pkg, gs in sorted(pics.items()):
                gs = sorted(gs)
                if len(gs) > package_cap:
                    gs = [gs[k] for k in rng.choice(len(gs), size=int(package_cap), replace=False)]
                keep.update(gs)
        for i, r in enumerate(self.rows):
            if r["split"] == "train" and (keep is None or r["group"] in keep):
                by_ref.setdefault(r["ref"], []).append(i)
        for key in keys:
            for ref, ids in by_ref.items():
                clean = [i for i in ids if self.rows[i]["level"] == 0][0]
                dist = [i for i in ids if self.rows[i]["level"] > 0]
                w = LEVEL_WEIGHTS[[self.rows[i]["level"] - 1 for i in dist]]
                order = list(rng.choice(len(dist), size=len(dist), replace=False, p=w / w.sum()))
                mine = [(key, [clean] + [dist[k] for k in order[s:s + GROUP - 1]])
                        for s in range(0, len(order) - GROUP + 2, GROUP - 1)]
                groups.extend(mine[:per_ref] if per_ref else mine)
        rng.shuffle(groups)
        return groups


def run(args):
    torch.manual_seed(args.seed)
    np.random.seed(args.seed)
    torch.set_num_threads(args.threads)
    use_image = args.variant != "signals_only"
    use_signals = args.variant != "finetune_only"
    tune = args.variant.startswith("finetune")
    if args.fresh_crops and not tune:
        raise SystemExit("--fresh-crops fine-tunes the backbone: use a finetune_* variant")
    if tune and not args.fresh_crops and (args.heads != 1 or args.lower_stats):
        raise SystemExit("--heads > 1 and --lower-stats need a frozen backbone (precomputed features) or --fresh-crops")
    extra = None
    if args.extra_signals:
        extra = (args.extra_signals, [c for c in (args.extra_cols or "").split(",") if c])
    data = Data(args.data, use_signals, extra, [c for c in (args.drop_signals or "").split(",") if c])
    fold = tuple(int(x) for x in args.fold.split("/")) if args.fold else None
    if args.train_packages or args.exclude_types or fold or args.main_pool_only:
        from sources import ORIGINAL_PACKAGES
        pk = None
        if args.train_packages:
            pk = ORIGINAL_PACKAGES if args.train_packages == "original" else set(args.train_packages.split(","))
        surplus = set()
        if args.main_pool_only:
            import csv
            surplus = {r["group"] for r in csv.DictReader(open(os.path.join(args.data, "refs", "refs.csv")))
                       if r.get("pool", "main") != "main"}
        data.restrict_train(pk, tuple(t for t in (args.exclude_types or "").split(",") if t), fold, surplus)
    out_dir = os.path.join(args.data, "runs", args.run_name or args.variant)
    os.makedirs(out_dir, exist_ok=True)
    log = open(os.path.join(out_dir, "log.jsonl"), "w")

    def emit(obj):
        obj["t"] = round(time.time() - t0, 1)
        log.write(json.dumps(obj) + "\n")
        log.flush()
        print(json.dumps(obj), file=sys.stderr, flush=True)

    t0 = time.time()
    backbone = MobileNetV2Backbone(os.path.join(args.data, "mobilenet_v2.onnx"))
    tail = Tail(backbone)
    if args.fresh_crops:  # fine-tuning on fresh random crops cut from the images (finetune.py)
        from finetune import run_fresh
        args.seed_base = args.seed
        return run_fresh(args, data, backbone, tail, out_dir, emit, t0)
    train_keys = [f"train_{p}" for p in args.positions.split(",")] if use_image else ["signals"]
    missing = [k for k in train_keys if use_image and k not in data.cache and k not in data.emb]
    if missing:
        raise SystemExit(f"no cached lower features for {missing}: run features.py --jobs train:<position>")

    # Frozen variants: the tail's pooled output never changes; compute it once per crop position and
    # keep it next to the lower-feature cache (it only depends on the converted backbone).
    pooled_cache = {}
    if use_image and not tune:
        tail.eval()
        for key in train_keys + ["val_centre", "test_centre"]:
            if key in data.emb:  # whole frozen embedding cached by features.py --embed
                emb, pos = data.emb[key]
                ids = sorted(pos)
                cols = emb.shape[1] if args.lower_stats else 1280
                pooled = torch.from_numpy(np.ascontiguousarray(emb[[pos[i] for i in ids], :cols], np.float32))
                pooled_cache[key] = (pooled, {i: k for k, i in enumerate(ids)})
                continue
            feats, pos = data.cache[key]
            ids = sorted(pos)
            path = os.path.join(args.data, "cache", f"{key}.pooled.npy")
            if os.path.exists(path):
                pooled = torch.from_numpy(np.load(path))
            else:
                out = []
                with torch.no_grad():
                    for s in range(0, len(ids), 256):
                        out.append(tail(data.feats(key, ids[s:s + 256]))[0])
                pooled = torch.cat(out)
                np.save(path, pooled.numpy())
            if args.lower_stats:
                stats = [lower_stats(data.feats(key, ids[s:s + 256])) for s in range(0, len(ids), 256)]
                pooled = torch.cat([pooled, torch.cat(stats)], dim=1)
            pooled_cache[key] = (pooled, {i: k for k, i in enumerate(ids)})
        emit({"event": "frozen pooled features ready"})

    def embed(key, ids, train):
        if not use_image:
            return None
        if not tune:
            p, pos = pooled_cache[key]
            return p[[pos[i] for i in ids]]
        tail.train(train)
        return tail(data.feats(key, ids))[0]

    def predict(model, split):
        key = "train_centre" if split == "train-unused" else f"{split}_centre"
        ids = data.split_rows(split)
        model.eval()
        preds = []
        with torch.no_grad():
            for s in range(0, len(ids), 128):
                chunk = ids[s:s + 128]
                preds.append(mos_of(model(embed(key, chunk, False), torch.from_numpy(data.signals[chunk]))))
        return ids, torch.cat(preds).numpy()

    # A frozen head walks every crop position each epoch; the fine-tuned stage alternates between
    # them so that one epoch fits the CPU budget.
    every_position = use_image and not tune
    budget = args.minutes * 60 / args.heads
    heads, selected = [], []
    for h in range(args.heads):
        seed = args.seed + h
        torch.manual_seed(seed)  # every head, including the first, starts from its own seed
        head = QualityHead(data.signals.shape[1], use_image, use_signals,
                           img_drop=args.img_drop, sig_drop=args.sig_drop, in_drop=args.in_drop,
                           img_dim=1280 + (LOWER_STATS if args.lower_stats else 0))
        params = [{"params": head.parameters(), "lr": args.lr_head, "weight_decay": 1e-3}]
        if tune:
            params.append({"params": tail.parameters(), "lr": args.lr_backbone, "weight_decay": 1e-4})
        opt = torch.optim.AdamW(params)
        rng = np.random.default_rng(seed)
        epoch_keys = train_keys if every_position else train_keys[:1]
        steps_per_epoch = len(data.epoch_groups(np.random.default_rng(0), epoch_keys, args.groups_per_ref,
                                                args.package_cap)) // GROUPS_PER_BATCH
        total = steps_per_epoch * args.epochs
        t_train = time.time()

        def lr_factor(s):
            # Cosine over whichever ends first, the planned steps or the time budget: the LR reaches its
            # floor even when the shared CPU is slower than planned.
            progress = min(1.0, max(s / total, (time.time() - t_train) / budget))
            return min(1.0, (s + 1) / 30) * (0.02 + 0.98 * 0.5 * (1 + np.cos(np.pi * progress)))

        sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_factor)
        best = {"srcc": -2.0}
        step = 0
        deadline = time.time() + budget  # the budget is for training, not the frozen precompute
        for epoch in range(args.epochs):
            keys = train_keys if every_position else [train_keys[epoch % len(train_keys)]]
            groups = data.epoch_groups(rng, keys, args.groups_per_ref, args.package_cap)
            head.train()
            agg = {"loss": 0.0, "n": 0}
            for b in range(0, len(groups) - GROUPS_PER_BATCH + 1, GROUPS_PER_BATCH):
                batch = groups[b:b + GROUPS_PER_BATCH]
                ids = batch_ids(batch)
                emb = torch.cat([embed(k, g, True) for k, g in batch]) if every_position else embed(keys[0], ids, True)
                logits = head(emb, torch.from_numpy(data.signals[ids]))
                loss, parts = fit_batch(logits, data, batch, args, opt, sched)
                step += 1
                agg["loss"] += loss
                agg["n"] += 1
                if step % 100 == 0:
                    emit({"event": "step", "head": h, "epoch": epoch, "step": step,
                          "loss": round(agg["loss"] / agg["n"], 4), **{k: round(v, 4) for k, v in parts.items()}})
                    agg = {"loss": 0.0, "n": 0}
                if time.time() > deadline:
                    break
            ids, pred = predict(head, "val")
            m = evaluate([data.rows[i] for i in ids], pred, full=False)
            emit({"event": "epoch", "head": h, "epoch": epoch, "positions": keys, "val": m})
            if args.heads == 1:
                torch.save({"tail": tail.state_dict(), "head": head.state_dict(), "epoch": epoch},
                           os.path.join(out_dir, f"epoch{epoch}.pt"))
            if m["srcc"] > best["srcc"]:
                best = {"srcc": m["srcc"], "epoch": epoch, "val": m, "head": copy.deepcopy(head.state_dict()),
                        "tail": copy.deepcopy(tail.state_dict())}
            if time.time() > deadline:
                emit({"event": "time budget reached", "head": h, "epoch": epoch})
                break
        head.load_state_dict(best["head"])
        tail.load_state_dict(best["tail"])
        heads.append(head)
        selected.append({"head": h, "seed": seed, "epoch": best["epoch"], "epochsRun": epoch + 1,
                         "valSrcc": best["srcc"]})
    model = HeadEnsemble(heads) if len(heads) > 1 else heads[0]
    ids, pred = predict(model, "val")
    val = evaluate([data.rows[i] for i in ids], pred, full=False)
    torch.save({"tail": tail.state_dict(), "head": heads[0].state_dict(), "heads": [x.state_dict() for x in heads],
                "epoch": selected[0]["epoch"], "variant": args.variant, "signals": data.signal_meta,
                "lowerStats": bool(args.lower_stats)},
               os.path.join(out_dir, "best.pt"))
    ids, pred = predict(model, "test")
    test = evaluate([data.rows[i] for i in ids], pred, full=True)
    np.save(os.path.join(out_dir, "test_pred.npy"), np.stack([np.array(ids, np.float64), pred]))
    # Every split's predictions by dataset path (the findings calibration chooses thresholds on train).
    by_path = {data.rows[i]["path"]: float(v) for i, v in zip(ids, pred)}
    for split in ("train", "val") + (("train-unused",) if fold else ()):
        if not use_image or ("train_centre" if split == "train-unused" else f"{split}_centre") in pooled_cache:
            sids, spred = predict(model, split)
            by_path.update({data.rows[i]["path"]: float(v) for i, v in zip(sids, spred)})
    json.dump(by_path, open(os.path.join(out_dir, "predictions.json"), "w"))
    result = {"variant": args.variant, "selectedEpoch": selected[0]["epoch"], "epochsRun": selected[0]["epochsRun"],
              "heads": selected, "positions": train_keys,
              "val": val, "test": test, "seconds": round(time.time() - t0, 1),
              "lr": {"backbone": args.lr_backbone if tune else None, "head": args.lr_head},
              "lowerStats": bool(args.lower_stats), "packageCap": args.package_cap,
              "cleanWeight": args.clean_weight, "rankWeight": args.rank_weight,
              "seed": args.seed, "cleanPairWeight": args.clean_pair_weight, "cleanPairMargin": args.clean_pair_margin,
              "trainPictures": len({r["group"] for r in data.rows if r["split"] == "train"}),
              "dropout": {"image": args.img_drop, "signals": args.sig_drop, "signalInput": args.in_drop}}
    json.dump(result, open(os.path.join(out_dir, "metrics.json"), "w"), indent=2)
    emit({"event": "done", "test_srcc": test["srcc"], "test_mild": test["mildPairAccuracy"],
          "val_srcc": val["srcc"], "heads": selected})


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "data")))
    ap.add_argument("--variant", default="finetune_signals",
                    choices=["finetune_signals", "finetune_only", "frozen_signals", "signals_only"])
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--minutes", type=float, default=30)
    ap.add_argument("--lr-backbone", type=float, default=1e-4)
    ap.add_argument("--lr-head", type=float, default=1e-3)
    ap.add_argument("--run-name", default=None, help="run folder name (default: the variant)")
    ap.add_argument("--positions", default="rand,centre",
                    help="training crop positions (cached by features.py): centre, rand, rand2..rand4")
    ap.add_argument("--heads", type=int, default=1, help="frozen variants: heads (seeds) averaged in one model")
    ap.add_argument("--img-drop", type=float, default=0.2)
    ap.add_argument("--sig-drop", type=float, default=0.1)
    ap.add_argument("--in-drop", type=float, default=0.0, help="dropout on the standardized signals")
    ap.add_argument("--lower-stats", action="store_true", help="frozen variants: add block-12 mean/std to the image embedding")
    ap.add_argument("--groups-per-ref", type=int, default=0, help="0 = all groups of a reference per epoch")
    ap.add_argument("--threads", type=int, default=2, help="torch threads (1 suits the small heads on cached features)")
    ap.add_argument("--train-packages", default=None,
                    help="ablation: train only on these packages' references ('original' = the first six)")
    ap.add_argument("--fold", default=None, help="k/n: cross-fitting run that leaves out training fold k of n "
                    "(predictions.json then also holds the left-out training rows, scored out of sample)")
    ap.add_argument("--package-cap", type=float, default=0,
                    help="per epoch, at most this many training pictures of one package (fresh draw each epoch; 0 = all)")
    ap.add_argument("--main-pool-only", action="store_true",
                    help="ablation: leave the package cap's surplus pictures (sources.py pool 'surplus') out of train")
    ap.add_argument("--clean-weight", type=float, default=1.0, help="weight of clean crops in CE and MSE")
    ap.add_argument("--seed", type=int, default=SEED, help="base seed: head h starts from seed + h (another base measures run-to-run spread)")
    ap.add_argument("--clean-pair-weight", type=float, default=0.0,
                    help="weight of an extra hinge on (clean, level-1) crops of the same reference+position (0 = off)")
    ap.add_argument("--clean-pair-margin", type=float, default=0.5,
                    help="--clean-pair-weight: MOS margin the clean crop must keep over its level-1 copies")
    ap.add_argument("--rank-weight", type=float, default=1.0, help="weight of the within-group ranking hinge")
    ap.add_argument("--fresh-crops", action="store_true",
                    help="finetune_signals: fine-tune the upper backbone with the heads on a fresh random crop position per "
                         "training reference each epoch, cut from the images (finetune.py; always with block-12 stats)")
    ap.add_argument("--tune-from", type=int, default=13, help="--fresh-crops: first fine-tuned block (13..16)")
    ap.add_argument("--init-from", default=None, help="--fresh-crops: start the heads from this run's best.pt")
    ap.add_argument("--extra-signals", default=None,
                    help="ablation: prefix of candidate signal columns (probe_signals.py: <prefix>.npy/.json) appended")
    ap.add_argument("--extra-cols", default=None, help="--extra-signals: comma-separated columns to keep (default all)")
    ap.add_argument("--drop-signals", default=None, help="ablation: comma-separated signal names left out of the input")
    ap.add_argument("--exclude-types", default=None, help="ablation: comma-separated distortion types left out of train")
    run(ap.parse_args())


if __name__ == "__main__":
    main()
