"""Split the references and render the synthetic-distortion dataset.

Split: whole source pictures (a reference and its tiles share a `group`) go to train/val/test with a
fixed seed, stratified by source package so the test split holds every kind of content.
Render: each reference at level 0 plus every distortion at levels 1..5, as lossless PNG, with
`dataset.csv` (path, ref, group, package, split, distortion, level, mos). Two worker processes.

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

SEED = 0
FRACTIONS = {"train": 0.7, "val": 0.1, "test": 0.2}


def split_groups(refs):
    """group -> split, stratified by package, deterministic for SEED."""
    by_pkg = {}
    for r in refs:
        by_pkg.setdefault(r["package"], set()).add(r["group"])
    rng = np.random.default_rng(SEED)
    out = {}
    for pkg in sorted(by_pkg):
        groups = sorted(by_pkg[pkg])
        rng.shuffle(groups)
        n = len(groups)
        n_test = max(1, round(n * FRACTIONS["test"])) if n >= 2 else 0
        n_val = max(1, round(n * FRACTIONS["val"])) if n >= 3 else 0
        for i, g in enumerate(groups):
            out[g] = "test" if i < n_test else "val" if i < n_test + n_val else "train"
    return out


def seed_for(*parts):
    return int.from_bytes(hashlib.sha256("/".join(map(str, parts)).encode()).digest()[:8], "little")


def render_ref(job):
    ref_path, out_dir, rid = job
    os.makedirs(out_dir, exist_ok=True)
    ref = np.asarray(Image.open(ref_path).convert("RGB"))
    made = []
    target = os.path.join(out_dir, "ref.png")
    if not os.path.exists(target):
        Image.fromarray(ref).save(target, compress_level=1)
    made.append(("none", 0, target))
    for name, fn in DISTORTIONS.items():
        for level in LEVELS:
            target = os.path.join(out_dir, f"{name}_{level}.png")
            if not os.path.exists(target):
                img = fn(ref, level, np.random.default_rng(seed_for(SEED, rid, name, level)))
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
    by_id = {r["id"]: r for r in refs}
    jobs = [(os.path.join(data, "refs", r["id"] + ".png"), os.path.join(root, "images", r["id"]), r["id"])
            for r in refs]
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
        s = splits[r["group"]]
        ref_counts[s] = ref_counts.get(s, 0) + 1
    print(f"dataset: {len(rows)} images {counts}, references {ref_counts}, {time.time() - t0:.0f}s",
          file=sys.stderr)


if __name__ == "__main__":
    main()
