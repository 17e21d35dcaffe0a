"""Shared pieces of the lite quality training: the crop plan (mirrored by the TypeScript runtime),
quality levels, dataset/signal loading and the IQA metrics (numpy only; no scipy on this machine)."""
import csv
import json
import math
import os

import numpy as np
import torch
from PIL import Image

CROP = 224
LEVEL_NAMES = ["bad", "poor", "fair", "good", "excellent"]
LEVEL_CENTRES = np.array([0.5, 1.5, 2.5, 3.5, 4.5], np.float32)


def js_round(v):
    """Math.round of JavaScript (half up), so Python and TS pick the same pixels."""
    return int(math.floor(v + 0.5))


def prepare_for_crops(img):
    """Resize (bilinear) so the short side is at least CROP; images already big enough are untouched."""
    w, h = img.size
    short = min(w, h)
    if short >= CROP:
        return img
    s = CROP / short
    return img.resize((max(CROP, js_round(w * s)), max(CROP, js_round(h * s))), Image.BILINEAR)


def crop_boxes(w, h, count):
    """Crop plan: `count` CROPxCROP boxes centred on the main diagonal at (i+1)/(count+1), clamped."""
    boxes = []
    for i in range(count):
        f = (i + 1) / (count + 1)
        x = min(max(js_round(f * w - CROP / 2), 0), w - CROP)
        y = min(max(js_round(f * h - CROP / 2), 0), h - CROP)
        boxes.append((x, y))
    return boxes


def plan_crops(img, count):
    """PIL image -> uint8 array [count, CROP, CROP, 3] following the crop plan."""
    img = prepare_for_crops(img.convert("RGB"))
    a = np.asarray(img)
    return np.stack([a[y:y + CROP, x:x + CROP] for x, y in crop_boxes(img.size[0], img.size[1], count)])


def load_dataset(root):
    rows = list(csv.DictReader(open(os.path.join(root, "dataset.csv"))))
    for r in rows:
        r["level"] = int(r["level"])
        r["mos"] = float(r["mos"])
        r["abs"] = os.path.join(root, r["path"])
    return rows


def load_signals(prefix):
    meta = json.load(open(prefix + ".json"))
    arr = np.fromfile(prefix + ".f32", dtype=np.float32).reshape(meta["count"], len(meta["names"]))
    index = {os.path.realpath(f): i for i, f in enumerate(meta["files"])}
    return arr, meta, index


def soft_labels(mos, width=0.5):
    """Gaussian soft target over the five level centres (keeps CE consistent with the MOS target)."""
    d = mos[:, None] - torch.as_tensor(LEVEL_CENTRES)[None, :]
    p = torch.exp(-0.5 * (d / width) ** 2)
    return p / p.sum(dim=1, keepdim=True)


# ---------------------------------------------------------------- metrics

def rankdata(x):
    x = np.asarray(x, np.float64)
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(len(x), np.float64)
    sx = x[order]
    i = 0
    while i < len(x):
        j = i
        while j + 1 < len(x) and sx[j + 1] == sx[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2.0 + 1
        i = j + 1
    return ranks


def pearson(a, b):
    a = np.asarray(a, np.float64) - np.mean(a)
    b = np.asarray(b, np.float64) - np.mean(b)
    d = math.sqrt((a * a).sum() * (b * b).sum())
    return float((a * b).sum() / d) if d > 0 else 0.0


def srcc(pred, mos):
    return pearson(rankdata(pred), rankdata(mos))


def krcc(pred, mos):
    """Kendall tau-b."""
    x = np.asarray(pred, np.float64)
    y = np.asarray(mos, np.float64)
    conc = disc = tx = ty = 0
    for i in range(len(x) - 1):
        dx = np.sign(x[i + 1:] - x[i])
        dy = np.sign(y[i + 1:] - y[i])
        s = dx * dy
        conc += int((s > 0).sum())
        disc += int((s < 0).sum())
        tx += int(((dx == 0) & (dy != 0)).sum())
        ty += int(((dy == 0) & (dx != 0)).sum())
    d = math.sqrt((conc + disc + tx) * (conc + disc + ty))
    return float((conc - disc) / d) if d > 0 else 0.0


def logistic5(x, b):
    return b[0] * (0.5 - 1.0 / (1.0 + torch.exp(b[1] * (x - b[2])))) + b[3] * x + b[4]


def fit_logistic5(pred, mos):
    """Least-squares fit of the 5-parameter logistic (VQEG); returns mapped predictions."""
    x = torch.as_tensor(np.asarray(pred, np.float64))
    y = torch.as_tensor(np.asarray(mos, np.float64))
    best = None
    sd = float(x.std()) or 1.0
    for b2 in (0.5 / sd, 1.0 / sd, 3.0 / sd):
        b = torch.tensor([float(y.max() - y.min()), b2, float(x.mean()), 0.0, float(y.mean())],
                         dtype=torch.float64, requires_grad=True)
        opt = torch.optim.LBFGS([b], lr=0.5, max_iter=500, line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            loss = ((logistic5(x, b) - y) ** 2).mean()
            loss.backward()
            return loss

        try:
            opt.step(closure)
        except Exception:
            continue
        with torch.no_grad():
            loss = float(((logistic5(x, b) - y) ** 2).mean())
        if math.isfinite(loss) and (best is None or loss < best[0]):
            best = (loss, b.detach().clone())
    if best is None:
        return np.asarray(pred, np.float64)
    with torch.no_grad():
        return logistic5(x, best[1]).numpy()


def mild_pairs(rows, scores):
    """Clean reference vs its level-1 distortion: share of pairs where the clean one scores higher."""
    clean = {r["ref"]: s for r, s in zip(rows, scores) if r["level"] == 0}
    per = {}
    for r, s in zip(rows, scores):
        if r["level"] == 1 and r["ref"] in clean:
            per.setdefault(r["distortion"], []).append(1.0 if clean[r["ref"]] > s else 0.0)
    allp = [v for vs in per.values() for v in vs]
    return (float(np.mean(allp)) if allp else float("nan")), {k: float(np.mean(v)) for k, v in per.items()}


def evaluate(rows, scores, full=True):
    """Metrics of predicted MOS `scores` against the synthetic MOS of `rows`."""
    scores = np.asarray(scores, np.float64)
    mos = np.array([r["mos"] for r in rows], np.float64)
    pair_all, pair_per = mild_pairs(rows, scores)
    out = {"images": len(rows), "references": len({r["ref"] for r in rows}),
           "srcc": srcc(scores, mos), "plcc": pearson(scores, mos),
           "rmse": float(np.sqrt(np.mean((scores - mos) ** 2))), "mildPairAccuracy": pair_all}
    if not full:
        return out
    out["plccLogistic"] = pearson(fit_logistic5(scores, mos), mos)
    out["krcc"] = krcc(scores, mos)
    per = {}
    for name in sorted({r["distortion"] for r in rows if r["level"] > 0}):
        idx = [i for i, r in enumerate(rows) if r["distortion"] in (name, "none")]
        per[name] = {"srcc": srcc(scores[idx], mos[idx]), "plcc": pearson(scores[idx], mos[idx]),
                     "mildPairAccuracy": pair_per.get(name, float("nan"))}
    out["perDistortion"] = per
    per_level = {}
    for lv in sorted({r["level"] for r in rows}):
        idx = [i for i, r in enumerate(rows) if r["level"] == lv]
        per_level[str(lv)] = {"images": len(idx), "meanPredicted": float(scores[idx].mean()),
                              "mos": float(mos[idx].mean()),
                              "rmse": float(np.sqrt(np.mean((scores[idx] - mos[idx]) ** 2)))}
    out["perLevel"] = per_level
    return out
