"""Split the references and render the synthetic-distortion dataset.

Split: whole source pictures (a reference and its tiles share a `group`) go to train/val/test with a
fixed seed, stratified by source package so the test split holds every kind of content.
Render: each reference at level 0 plus distortions as lossless PNG, with `dataset.csv` (path, ref, group,
package, split, distortion, level, mos). Val and test references get the full grid (every type x levels 1..5);
training references get TRAIN_LEVELS_PER_TYPE levels of every type, drawn per (reference, type) with a fixed
seed (issue 16: ~3x the pictures in the same CPU budget; the fresh crop positions and the other references
cover the remaining levels). Two worker processes.
Also writes the split manifest (reference -> split) to training/lite/split-manifest.csv, which is committed.

    /usr/bin/python3 training/lite/dataset.py [--data training/data]
"""
import argparse
import csv
import hashlib
import os
import sys
import time
from multiprocessing import Pool

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from distortions import DISTORTIONS, LEVELS, mos_for_level  # noqa: E402
from sources import ORIGINAL_PACKAGES  # noqa: E402

SEED = 0
TRAIN_LEVELS_PER_TYPE = 2
MANIFEST = os.path.join(os.path.dirname(os.path.abspath(__file__)), "split-manifest.csv")
FRACTIONS = {"train": 0.7, "val": 0.1, "test": 0.2}


def split_groups(refs):
    """group -> split, stratified by package, deterministic for SEED. Pictures of the package cap's surplus
    pool (sources.py) are training-only: val and test stay the capped draw's, so held-out figures compare
    with pack 0.4.0's and no one package dominates them."""
    by_pkg = {}
    for r in refs:
        if r.get("pool", "main") == "main":
            by_pkg.setdefault(r["package"], set()).add(r["group"])
    rng = np.random.default_rng(SEED)
    out = {}
    # The first six packages are split first, with the same generator state as before issue 16, so their
    # pictures keep the split of pack 0.3.0: the old pack never trained on a picture of the new test split,
    # and both packs can be compared on it.
    for pkg in sorted(by_pkg, key=lambda p: (p not in ORIGINAL_PACKAGES, p)):
        groups = sorted(by_pkg[pkg])
        rng.shuffle(groups)
        n = len(groups)
        n_test = max(1, round(n * FRACTIONS["test"])) if n >= 2 else 0
        n_val = max(1, round(n * FRACTIONS["val"])) if n >= 3 else 0
        for i, g in enumerate(groups):
            out[g] = "test" if i < n_test else "val" if i < n_test + n_val else "train"
    for r in refs:
        if r.get("pool", "main") != "main":
            out[r["group"]] = "train"
    return out


def seed_for(*parts):
    return int.from_bytes(hashlib.sha256("/".join(map(str, parts)).encode()).digest()[:8], "little")


def levels_for(rid, split):
    """(type, level) pairs rendered for one reference: the full grid outside train, a seeded subset in train."""
    pairs = []
    for name in DISTORTIONS:
        if split == "train":
            rng = np.random.default_rng(seed_for(SEED, rid, name, "levels"))
            chosen = sorted(int(v) for v in rng.choice(LEVELS, size=TRAIN_LEVELS_PER_TYPE, replace=False))
        else:
            chosen = list(LEVELS)
        pairs.extend((name, level) for level in chosen)
    return pairs


def render_ref(job):
    ref_path, out_dir, rid, pairs = job
    os.makedirs(out_dir, exist_ok=True)
    ref = np.asarray(Image.open(ref_path).convert("RGB"))
    made = []
    target = os.path.join(out_dir, "ref.png")
    if not os.path.exists(target):
        Image.fromarray(ref).save(target, compress_level=1)
    made.append(("none", 0, target))
    for name, level in pairs:
        target = os.path.join(out_dir, f"{name}_{level}.png")
        if not os.path.exists(target):
            img = DISTORTIONS[name](ref, level, np.random.default_rng(seed_for(SEED, rid, name, level)))
            Image.fromarray(img).save(target + ".tmp.png", compress_level=1)
            os.rename(target + ".tmp.png", target)
        made.append((name, level, target))
    return rid, made


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "..", "data"))
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    data = os.path.abspath(args.data)
    root = os.path.join(data, "dataset")
    csv_path = os.path.join(root, "dataset.csv")
    if os.path.exists(csv_path):
        print(f"dataset: {csv_path} exists, skipping", file=sys.stderr)
        return
    refs = list(csv.DictReader(open(os.path.join(data, "refs", "refs.csv"))))
    splits = split_groups(refs)
    # Val and test hold each picture once (its whole view): tiles are closer views of the same picture and,
    # at the full grid, would double the held-out rendering cost without adding a distinct picture.
    unused = {r["id"] for r in refs if splits[r["group"]] != "train" and r["view"] != "whole"}
    by_id = {r["id"]: r for r in refs}
    with open(MANIFEST + ".tmp", "w", newline="") as fh:
        wr = csv.writer(fh)
        wr.writerow(["ref", "group", "package", "original_path", "view", "pool", "split"])
        for r in sorted(refs, key=lambda r: r["id"]):
            wr.writerow([r["id"], r["group"], r["package"], r["original_path"], r["view"], r.get("pool", "main"),
                         "unused" if r["id"] in unused else splits[r["group"]]])
    os.replace(MANIFEST + ".tmp", MANIFEST)
    jobs = [(os.path.join(data, "refs", r["id"] + ".png"), os.path.join(root, "images", r["id"]), r["id"],
             levels_for(r["id"], splits[r["group"]])) for r in refs if r["id"] not in unused]
    jobs.sort(key=lambda j: -os.path.getsize(j[0]))  # big references first: the pool ends evenly
    t0 = time.time()
    rows = []
    with Pool(args.workers) as pool:
        for i, (rid, made) in enumerate(pool.imap_unordered(render_ref, jobs)):
            r = by_id[rid]
            for name, level, path in made:
                rows.append({"path": os.path.relpath(path, root), "ref": rid, "group": r["group"],
                             "package": r["package"], "split": splits[r["group"]], "distortion": name,
                             "level": level, "mos": round(mos_for_level(level), 3)})
            if (i + 1) % 20 == 0:
                print(f"dataset: {i + 1}/{len(jobs)} references, {time.time() - t0:.0f}s", file=sys.stderr)
    rows.sort(key=lambda r: (r["ref"], r["level"], r["distortion"]))
    with open(csv_path + ".tmp", "w", newline="") as fh:
        wr = csv.DictWriter(fh, fieldnames=list(rows[0].keys()))
        wr.writeheader()
        wr.writerows(rows)
    os.rename(csv_path + ".tmp", csv_path)
    counts = {}
    for r in rows:
        counts[r["split"]] = counts.get(r["split"], 0) + 1
    ref_counts = {}
    for r in refs:
        if r["id"] in unused:
            continue
        s = splits[r["group"]]
        ref_counts[s] = ref_counts.get(s, 0) + 1
    print(f"dataset: {len(rows)} images {counts}, references {ref_counts}, {time.time() - t0:.0f}s",
          file=sys.stderr)


if __name__ == "__main__":
    main()
