"""Candidate classical signals for the weak distortion types (issue 16, item 2), measured before they
are ported to src/signals/ as a new signals version: this computes them in numpy for every dataset
image and writes them as extra columns that `train.py --extra-signals` appends to the signal vector,
so the heads can be compared with and without them on val.

Candidates (all global, on the whole image; luma = (77R + 150G + 29B + 128) >> 8, as src/signals):
  band_*    banding in smooth gradients: along every k-th row and column (k = 2 up to 600k pixels, then
            ceil(pixels / 300k): a fixed budget), runs of equal luma; at the
            boundary between two runs of >= 4 pixels, the step size. Natural smooth gradients step by
            1 level between flat runs, banded ones by q >= 2. band_frac = steps >= 2 / all such steps,
            band_step = mean size of the >= 2 steps / 16, band_rate = such boundaries per 100 pixels,
            flat_frac = share of pixels inside runs >= 4.
  lab_*     colour cast in CIELAB (D65, from linear light) on a strided subsample: grey-world mean a*, b*;
            the mean a*, b* of the 10 % least chromatic pixels with 15 < L* < 95 (would-be neutrals);
            coherence = |mean(a*, b*)| / mean(|(a*, b*)|) (a cast moves every pixel the same way);
            chroma p95; clip = share of pixels with chroma > 30 and a channel at 0 or 255 (burnt colours).
  grid4/16  WebP: mean |luma step| across x = 0 mod 4 (VP8's 4x4 transforms) over the steps off that grid,
            and across x = 0 mod 16 (macroblocks) over the steps off the 4-grid; rows and columns averaged.

    /usr/bin/python3 training/lite/probe_signals.py --data training/data [--workers 1]
Writes <data>/signals/probe.npy (rows in dataset.csv order) and probe.json (column names).

The banding measures are ported to src/signals/banding.ts (signals-3); `--parity-fixture OUT` writes what this
file computes for the example photos and a few formula images, which test/signals/banding.test.ts checks the port
against (rerun it only when this definition changes).
"""
import argparse
import json
import os
import sys
import time
from multiprocessing import Pool

import numpy as np
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import load_dataset  # noqa: E402

NAMES = ["band_frac", "band_step", "band_rate", "flat_frac",
         "lab_mean_a", "lab_mean_b", "lab_neutral_a", "lab_neutral_b", "lab_coherence", "lab_chroma_p95", "lab_clip",
         "grid4", "grid16"]
MIN_RUN = 4
MAX_STEP = 48


def luma_of(rgb):
    r, g, b = (rgb[..., k].astype(np.int32) for k in range(3))
    return (77 * r + 150 * g + 29 * b + 128) >> 8


def run_steps(lines):
    """lines: int array [n, len]. Returns (steps between two runs >= MIN_RUN, pixels in runs >= MIN_RUN, pixels)."""
    n, length = lines.shape
    start = np.ones((n, length), bool)
    start[:, 1:] = lines[:, 1:] != lines[:, :-1]  # every line starts a run: runs never cross lines
    flat_lines = lines.reshape(-1)
    starts = np.flatnonzero(start.reshape(-1))
    lengths = np.diff(np.concatenate([starts, [n * length]]))
    long = lengths >= MIN_RUN
    both = long[:-1] & long[1:] & (starts[1:] % length != 0)
    d = np.abs(np.diff(flat_lines[starts]))[both]
    return d[d <= MAX_STEP], int(lengths[long].sum()), n * length


SCAN_BUDGET = 300_000  # pixels per direction, about: rows and columns k apart, k = 2 up to 600k pixels


def banding(luma):
    h, w = luma.shape
    k = max(2, -(-(w * h) // SCAN_BUDGET))
    s1, f1, t1 = run_steps(luma[::k])
    s2, f2, t2 = run_steps(np.ascontiguousarray(luma[:, ::k].T))
    s = np.concatenate([s1, s2])
    big = s[s >= 2]
    return [len(big) / (len(s) + 1.0), (big.mean() / 16.0) if len(big) else 0.0,
            100.0 * len(s) / (t1 + t2), (f1 + f2) / float(t1 + t2)]


def srgb_to_lab(rgb):
    c = rgb.astype(np.float64) / 255.0
    lin = np.where(c <= 0.04045, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    m = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = lin @ m.T / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > (6 / 29) ** 3, np.cbrt(xyz), xyz / (3 * (6 / 29) ** 2) + 4 / 29)
    return np.stack([116 * f[:, 1] - 16, 500 * (f[:, 0] - f[:, 1]), 200 * (f[:, 1] - f[:, 2])], axis=1)


def lab_stats(rgb):
    h, w, _ = rgb.shape
    stride = max(1, int(np.sqrt(h * w / 40000)))
    px = rgb[::stride, ::stride].reshape(-1, 3)
    lab = srgb_to_lab(px)
    ab = lab[:, 1:]
    chroma = np.hypot(ab[:, 0], ab[:, 1])
    mean = ab.mean(axis=0)
    mid = (lab[:, 0] > 15) & (lab[:, 0] < 95)
    if mid.sum() >= 20:
        cm = chroma[mid]
        k = max(1, int(0.1 * len(cm)))
        idx = np.argpartition(cm, k - 1)[:k]
        neutral = ab[mid][idx].mean(axis=0)
    else:
        neutral = np.zeros(2)
    coherence = float(np.hypot(*mean) / (chroma.mean() + 1.0))
    clipped = ((px == 0) | (px == 255)).any(axis=1) & (chroma > 30)
    return [mean[0] / 100, mean[1] / 100, neutral[0] / 100, neutral[1] / 100, coherence,
            float(np.percentile(chroma, 95)) / 100, float(clipped.mean())]


def grid_ratios(luma):
    out4, out16 = [], []
    for plane in (luma, luma.T):
        step = np.abs(np.diff(plane.astype(np.float64), axis=1)).mean(axis=0)  # step j is between x=j and j+1
        x = np.arange(1, len(step) + 1)
        on4, on16, off4 = step[x % 4 == 0], step[x % 16 == 0], step[x % 4 != 0]
        if len(on16) == 0 or len(off4) == 0:
            out4.append(1.0)
            out16.append(1.0)
            continue
        out4.append((on4.mean() + 1e-3) / (off4.mean() + 1e-3))
        out16.append((on16.mean() + 1e-3) / (on4.mean() + 1e-3))
    return [float(np.log(np.mean(out4))), float(np.log(np.mean(out16)))]


def probe(path):
    with Image.open(path) as im:
        rgb = np.asarray(im.convert("RGB"))
    luma = luma_of(rgb)
    return banding(luma) + lab_stats(rgb) + grid_ratios(luma)


WEAK = ["banding", "colour_cast", "webp", "over_saturation", "brightness_shift", "over_sharpening"]


def analyse(data):
    """Per weak type on val: |SRCC| of each single signal with the level (the type's 5 levels + clean), the best
    signals-2 signal beside the best candidate (a first look; the heads decide)."""
    from common import load_signals, srcc
    rows = load_dataset(os.path.join(data, "dataset"))
    probe = np.load(os.path.join(data, "signals", "probe.npy"))
    arr, meta, index = load_signals(os.path.join(data, "signals", "signals"))
    old = arr[[index[os.path.realpath(r["abs"])] for r in rows]]
    out = {}
    for t in WEAK:
        idx = [i for i, r in enumerate(rows) if r["split"] == "val" and r["distortion"] in (t, "none")]
        lv = [rows[i]["level"] for i in idx]
        best_old = max(((abs(srcc(old[idx, j], lv)), meta["names"][j]) for j in range(old.shape[1])))
        cand = sorted(((abs(srcc(probe[idx, j], lv)), NAMES[j]) for j in range(len(NAMES))), reverse=True)[:3]
        out[t] = {"bestSignals2": [round(best_old[0], 3), best_old[1]], "bestCandidates": [[round(a, 3), n] for a, n in cand]}
        print(f"{t:18s} signals-2 best {best_old[1]} {best_old[0]:.3f}; candidates " +
              ", ".join(f"{n} {a:.3f}" for a, n in cand))
    json.dump(out, open(os.path.join(data, "signals", "probe-analysis.json"), "w"), indent=1)


# Formula images of the parity fixture (test/signals/banding.test.ts draws the same ones): grey levels per pixel.
def synth(kind, w, h, q):
    y, x = np.mgrid[0:h, 0:w]
    if kind == "ramp-x":  # a left-to-right gradient quantised to steps of q levels
        v = (40 + (160 * x) // max(1, w - 1)) // q * q
    elif kind == "ramp-y":
        v = (30 + (200 * y) // max(1, h - 1)) // q * q
    elif kind == "diagonal":
        v = (x * 7 + y * 13) % 256
    elif kind == "rings":  # concentric bands of width q, 3 levels apart
        v = 60 + 3 * (((x - w // 2) ** 2 + (y - h // 3) ** 2) // (q * q * 16) % 40)
    else:
        raise SystemExit(f"unknown formula {kind}")
    return np.repeat(v.astype(np.uint8)[..., None], 3, axis=2)


PARITY_SYNTH = [("ramp-x", 300, 200, 1), ("ramp-x", 300, 200, 4), ("ramp-y", 97, 331, 3), ("ramp-y", 64, 64, 1),
                ("diagonal", 129, 77, 1), ("rings", 256, 180, 2), ("ramp-x", 1, 1, 1), ("ramp-x", 7, 3, 1),
                ("ramp-y", 3, 9, 2), ("ramp-x", 50, 1, 1), ("rings", 1024, 1024, 3), ("rings", 1500, 601, 2)]


def parity_fixture(out_path):
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
    cases = []
    for name in sorted(os.listdir(os.path.join(root, "examples"))):
        if name.endswith(".png"):  # lossless: sharp and PIL decode the same pixels
            with Image.open(os.path.join(root, "examples", name)) as im:
                rgb = np.asarray(im.convert("RGB"))
            cases.append({"name": f"examples/{name}", "banding": banding(luma_of(rgb))})
    for kind, w, h, q in PARITY_SYNTH:
        cases.append({"name": f"{kind} {w}x{h} q{q}", "formula": [kind, w, h, q], "banding": banding(luma_of(synth(kind, w, h, q)))})
    for c in cases:
        c["banding"] = [float(v) for v in c["banding"]]
    with open(out_path, "w") as f:
        json.dump({"source": "training/lite/probe_signals.py --parity-fixture", "names": NAMES[:4], "cases": cases}, f, indent=1)
        f.write("\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "..", "data"))
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--analyse", action="store_true", help="only the per-type single-signal table on val")
    ap.add_argument("--parity-fixture", default=None, help="only write the banding parity fixture to this path")
    args = ap.parse_args()
    if args.parity_fixture:
        return parity_fixture(args.parity_fixture)
    if args.analyse:
        return analyse(args.data)
    rows = load_dataset(os.path.join(args.data, "dataset"))
    t0 = time.time()
    out = np.zeros((len(rows), len(NAMES)), np.float32)
    with Pool(args.workers) as pool:
        for k, v in enumerate(pool.imap(probe, [r["abs"] for r in rows], chunksize=16)):
            out[k] = v
            if k % 2000 == 0:
                print(f"probe: {k}/{len(rows)} at {time.time() - t0:.0f}s", file=sys.stderr, flush=True)
    np.save(os.path.join(args.data, "signals", "probe.npy"), out)
    json.dump({"names": NAMES, "paths": [r["path"] for r in rows]},
              open(os.path.join(args.data, "signals", "probe.json"), "w"))
    print(f"probe: wrote {out.shape} in {time.time() - t0:.0f}s", file=sys.stderr)


if __name__ == "__main__":
    main()
