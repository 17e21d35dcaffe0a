"""Backbone fine-tuning on fresh random crops (train.py --fresh-crops; issue 16).

The frozen recipe trains heads on a cached embedding of three fixed crop positions per training
reference. Here the upper stage of MobileNetV2 (blocks `--tune-from`..16 and the 1280-channel conv)
is trained jointly with the heads, and every epoch cuts a **fresh random crop position** per training
reference out of the images themselves (one position per reference and epoch, shared by the clean
image and its distortions, as the ranking loss needs). The lower part (stem + blocks 0..CUT) stays
frozen and runs in PyTorch without gradients per batch; the block-12 mean/std of the embedding come
from it, exactly as in export.py.

The heads may start from a run's `best.pt` (`--init-from`, e.g. the frozen ensemble): several heads
are then trained jointly as one `HeadEnsemble` (the loss is on their averaged logits, as exported).
The val split (centre crop, the runtime's) is scored before the first epoch too ("epoch -1", metrics
`startVal`): the run's checkpoint is its best fine-tuned epoch on val, and whether that beats the start
(the frozen run) is the ablation's verdict, on val. The time budget starts after that first score.
"""
import copy
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import CROP, crop_boxes, evaluate, prepare_for_crops  # noqa: E402
from features import CUT, lower  # noqa: E402

GROUP = 8
GROUPS_PER_BATCH = 6


def load_crop(path, xy):
    with Image.open(path) as im:
        a = np.asarray(prepare_for_crops(im.convert("RGB")))
    x, y = xy
    return a[y:y + CROP, x:x + CROP]


class FreshCrops:
    """Reference sizes, per-epoch random positions and a thread pool that decodes the next batch."""

    def __init__(self, rows):
        self.rows = rows
        self.size = {}
        for r in rows:
            if r["level"] == 0 and r["ref"] not in self.size:
                with Image.open(r["abs"]) as im:
                    self.size[r["ref"]] = prepare_for_crops(im).size
        self.pool = ThreadPoolExecutor(2)

    def centre(self, ref):
        return crop_boxes(*self.size[ref], 1)[0]

    def draw(self, rng, refs):
        out = {}
        for ref in sorted(refs):
            w, h = self.size[ref]
            out[ref] = (int(rng.integers(0, w - CROP + 1)), int(rng.integers(0, h - CROP + 1)))
        return out

    def crops(self, ids, where):
        """uint8 [N, 224, 224, 3] for rows `ids`; `where`: ref -> (x, y)."""
        arrs = list(self.pool.map(lambda i: load_crop(self.rows[i]["abs"], where[self.rows[i]["ref"]]), ids))
        return torch.from_numpy(np.stack(arrs)).float()


def run_fresh(args, data, backbone, tail, out_dir, emit, t0):
    from train import LOWER_STATS, HeadEnsemble, QualityHead, batch_ids, fit_batch, lower_stats, mos_of

    torch.manual_seed(args.seed_base)
    rng = np.random.default_rng(args.seed_base)
    backbone.eval()
    for p in backbone.parameters():
        p.requires_grad_(False)
    first = args.tune_from - (CUT + 1)  # tail.blocks index of the first tuned block
    if first < 0:
        raise SystemExit(f"--tune-from must be > {CUT} (blocks 0..{CUT} are the frozen lower part)")
    for k, blk in enumerate(tail.blocks):
        for p in blk.parameters():
            p.requires_grad_(k >= first)
    n_sig = data.signals.shape[1]
    img_dim = 1280 + LOWER_STATS
    init = torch.load(os.path.join(args.data, "runs", args.init_from, "best.pt")) if args.init_from else None
    heads = []
    for h in range(args.heads):
        torch.manual_seed(args.seed_base + h)
        head = QualityHead(n_sig, True, True, img_drop=args.img_drop, sig_drop=args.sig_drop, in_drop=args.in_drop,
                           img_dim=img_dim)
        if init is not None:
            head.load_state_dict(init.get("heads", [init["head"]])[h])
        heads.append(head)
    model = HeadEnsemble(heads) if len(heads) > 1 else heads[0]
    src = FreshCrops(data.rows)

    def embed(low):
        return torch.cat([tail(low)[0], lower_stats(low)], dim=1)

    low_cache = {}

    def split_lower(split):
        """The frozen lower features of a split's centre crops (the runtime's), computed once (float16)."""
        if split not in low_cache:
            ids = data.split_rows(split)
            # The lower part never changes: keep its features on disk for the next run (keyed by the rows).
            path = os.path.join(args.data, "cache", f"{split}_centre.lower.npy")
            if os.path.exists(path) and np.array_equal(np.load(path[:-len(".npy")] + ".ids.npy"), ids):
                low_cache[split] = (ids, torch.from_numpy(np.load(path)))
                return low_cache[split]
            where = {r: src.centre(r) for r in {data.rows[i]["ref"] for i in ids}}
            out = []
            with torch.no_grad():
                for s in range(0, len(ids), 64):
                    out.append(lower(backbone, src.crops(ids[s:s + 64], where)).half())
            low_cache[split] = (ids, torch.cat(out))
            np.save(path[:-len(".npy")] + ".ids.npy", np.array(ids, np.int64))
            np.save(path, low_cache[split][1].numpy())
            emit({"event": "lower features ready", "split": split, "images": len(ids)})
        return low_cache[split]

    def predict(split):
        ids, low = split_lower(split)
        model.eval()
        tail.eval()
        preds = []
        with torch.no_grad():
            for s in range(0, len(ids), 128):
                chunk = ids[s:s + 128]
                preds.append(mos_of(model(embed(low[s:s + 128].float()), torch.from_numpy(data.signals[chunk]))))
        return ids, torch.cat(preds).numpy()

    params = [{"params": model.parameters(), "lr": args.lr_head, "weight_decay": 1e-3},
              {"params": [p for p in tail.parameters() if p.requires_grad], "lr": args.lr_backbone,
               "weight_decay": 1e-4}]
    opt = torch.optim.AdamW(params)
    train_refs = {r["ref"] for r in data.rows if r["split"] == "train"}
    plan = data.epoch_groups(np.random.default_rng(0), ["fresh"], args.groups_per_ref, args.package_cap)
    total = len(plan) // GROUPS_PER_BATCH * args.epochs
    budget = args.minutes * 60
    t_train = time.time()  # reset after the starting val score (the schedule reads it when called)
    warm = 0 if init is not None else 30  # warm-started heads need no warm-up of their own

    def lr_factor(s):
        progress = min(1.0, max(s / total, (time.time() - t_train) / budget))
        return min(1.0, (s + 1) / max(warm, 1)) * (0.02 + 0.98 * 0.5 * (1 + np.cos(np.pi * progress)))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_factor)
    ids, pred = predict("val")
    start_val = evaluate([data.rows[i] for i in ids], pred, full=False)
    emit({"event": "epoch", "head": 0, "epoch": -1, "positions": ["start"], "val": start_val})
    # The run is the fine-tuned model: its checkpoint is the best epoch >= 0 on val; whether it beats its starting
    # point (the frozen run, scored above) is the ablation's verdict, made on val.
    best = {"srcc": -2.0}
    t_train = time.time()
    deadline = t_train + budget
    step = 0
    for epoch in range(args.epochs):
        where = src.draw(rng, train_refs)  # a fresh crop position per training reference
        groups = data.epoch_groups(rng, ["fresh"], args.groups_per_ref, args.package_cap)
        batches = [groups[b:b + GROUPS_PER_BATCH] for b in range(0, len(groups) - GROUPS_PER_BATCH + 1,
                                                                   GROUPS_PER_BATCH)]
        agg = {"loss": 0.0, "n": 0}
        nxt = src.pool.submit(src.crops, batch_ids(batches[0]), where) if batches else None
        for b, batch in enumerate(batches):
            ids = batch_ids(batch)
            x = nxt.result()
            if b + 1 < len(batches):  # decode the next batch while this one trains
                nxt = src.pool.submit(src.crops, batch_ids(batches[b + 1]), where)
            with torch.no_grad():
                low = lower(backbone, x)
            model.train()
            tail.train()
            logits = model(embed(low), torch.from_numpy(data.signals[ids]))
            loss, parts = fit_batch(logits, data, batch, args, opt, sched)
            step += 1
            agg["loss"] += loss
            agg["n"] += 1
            if step % 20 == 0:
                emit({"event": "step", "head": 0, "epoch": epoch, "step": step,
                      "loss": round(agg["loss"] / agg["n"], 4), **{k: round(v, 4) for k, v in parts.items()}})
                agg = {"loss": 0.0, "n": 0}
            if time.time() > deadline:
                break
        ids, pred = predict("val")
        m = evaluate([data.rows[i] for i in ids], pred, full=False)
        emit({"event": "epoch", "head": 0, "epoch": epoch, "positions": ["fresh"], "val": m})
        if m["srcc"] > best["srcc"]:
            best = {"srcc": m["srcc"], "epoch": epoch, "model": copy.deepcopy(model.state_dict()),
                    "tail": copy.deepcopy(tail.state_dict())}
        if time.time() > deadline:
            emit({"event": "time budget reached", "head": 0, "epoch": epoch})
            break
    model.load_state_dict(best["model"])
    tail.load_state_dict(best["tail"])
    ids, pred = predict("val")
    val = evaluate([data.rows[i] for i in ids], pred, full=False)
    val_full = evaluate([data.rows[i] for i in ids], pred, full=True)
    by_path = {data.rows[i]["path"]: float(v) for i, v in zip(ids, pred)}
    head_states = [hd.state_dict() for hd in heads]
    torch.save({"tail": tail.state_dict(), "head": head_states[0], "heads": head_states, "epoch": best["epoch"],
                "variant": args.variant, "signals": data.signal_meta, "lowerStats": True},
               os.path.join(out_dir, "best.pt"))
    low_cache.pop("val")
    ids, pred = predict("test")  # scored once, with the val-selected checkpoint
    test = evaluate([data.rows[i] for i in ids], pred, full=True)
    by_path.update({data.rows[i]["path"]: float(v) for i, v in zip(ids, pred)})
    json.dump(by_path, open(os.path.join(out_dir, "predictions.json"), "w"))
    result = {"variant": args.variant, "freshCrops": True, "tuneFrom": args.tune_from, "initFrom": args.init_from,
              "startVal": start_val,
              "selectedEpoch": best["epoch"], "epochsRun": epoch + 1,
              "heads": [{"head": h, "seed": args.seed_base + h, "epoch": best["epoch"], "valSrcc": best["srcc"]}
                        for h in range(len(heads))],
              "positions": ["fresh random per epoch"], "groupsPerRef": args.groups_per_ref,
              "val": val, "valFull": val_full, "test": test, "seconds": round(time.time() - t0, 1),
              "lr": {"backbone": args.lr_backbone, "head": args.lr_head}, "lowerStats": True,
              "packageCap": args.package_cap, "cleanWeight": args.clean_weight, "rankWeight": args.rank_weight,
              "trainPictures": len({r["group"] for r in data.rows if r["split"] == "train"}),
              "dropout": {"image": args.img_drop, "signals": args.sig_drop, "signalInput": args.in_drop}}
    json.dump(result, open(os.path.join(out_dir, "metrics.json"), "w"), indent=2)
    emit({"event": "done", "test_srcc": test["srcc"], "test_mild": test["mildPairAccuracy"],
          "val_srcc": val["srcc"], "selected_epoch": best["epoch"]})
