"""Reference images for the lite quality model, taken from Debian packages.

Downloads a few Debian packages with `apt-get download` (never installs them), unpacks them with
`dpkg -x`, keeps the photographs and painted art, removes duplicates and flat graphics, and writes
pristine PNG references (every source downscaled by at least 2x so its own compression and noise
fall below visibility) plus `refs.csv`. Rerunning skips everything that already exists.

    /usr/bin/python3 training/lite/sources.py [--data training/data]
"""
import argparse
import csv
import glob
import hashlib
import json
import os
import re
import subprocess
import sys

import numpy as np
from PIL import Image

Image.MAX_IMAGE_PIXELS = 200_000_000

# Package -> (globs under the unpacked tree, licence note). The globs pick the image folders that
# hold photographs or paintings; UI sprites, icons and doc figures are left out on purpose.
PACKAGES = {
    "plasma-workspace-wallpapers": (
        ["usr/share/wallpapers/*/contents/images/*.jpg", "usr/share/wallpapers/*/contents/images/*.png"],
        "GPL-2+ (KDE Plasma wallpapers; per-wallpaper metadata.json names the author)",
    ),
    "mate-backgrounds": (
        ["usr/share/backgrounds/mate/*/*.jpg", "usr/share/backgrounds/mate/*/*.png"],
        "GPL-2+ / CC-BY-SA-4.0 (see debian/copyright of mate-backgrounds)",
    ),
    "tuxpaint-data": (
        ["usr/share/tuxpaint/templates/*.jpg", "usr/share/tuxpaint/templates/*.png",
         "usr/share/tuxpaint/starters/*.png", "usr/share/tuxpaint/starters/*.jpg"],
        "GPL-2+ / public-domain photos (see debian/copyright of tuxpaint-data)",
    ),
    "wesnoth-1.16-data": (
        ["usr/share/games/wesnoth/1.16/data/core/images/story/*.jpg",
         "usr/share/games/wesnoth/1.16/data/core/images/maps/*.jpg",
         "usr/share/games/wesnoth/1.16/data/core/images/maps/*.png"],
        "GPL-2+ (Battle for Wesnoth art)",
    ),
    "python3-skimage": (
        ["usr/lib/python3/dist-packages/skimage/data/*.png", "usr/lib/python3/dist-packages/skimage/data/*.jpg"],
        "BSD-3-Clause / public-domain or CC0 sample images (see skimage/data/README.txt)",
    ),
    "opencv-doc": (
        ["usr/share/doc/opencv-doc/examples/**/*.jpg", "usr/share/doc/opencv-doc/examples/**/*.png"],
        "BSD-3-Clause / Apache-2.0 sample data (see debian/copyright of opencv-doc)",
    ),
    # Issue 16: photographs from further packages (short side >= NEW_MIN_SOURCE_SHORT before the 2x downscale).
    "endless-sky-high-dpi": (
        ["usr/share/games/endless-sky/plugins/endless-sky-high-dpi/images/land/*@2x.jpg"],
        "public domain (morgueFile, Unsplash, NASA, USGS, LoC) or CC-BY-SA-3.0/4.0 for named photographers, "
        "per file in plugins/endless-sky-high-dpi/copyright",
    ),
    "enlightenment-data": (
        ["_extracted/backgrounds/*.jpg"],  # the largest JPEG inside each backgrounds/*.edj (see extract_edj)
        "BSD-2-Clause (see debian/copyright of enlightenment-data)",
    ),
    "lxqt-themes": (
        ["usr/share/lxqt/wallpapers/*.jpg", "usr/share/lxqt/wallpapers/*.png"],
        "CC-BY-SA-3.0 (usr/share/lxqt/wallpapers/License) / LGPL-2.1+",
    ),
    "gnome-backgrounds": (
        ["usr/share/backgrounds/gnome/*.webp", "usr/share/backgrounds/gnome/*.jpg", "usr/share/backgrounds/gnome/*.png"],
        "CC-BY-SA-3.0 (see debian/copyright of gnome-backgrounds)",
    ),
    "ukui-wallpapers": (
        ["usr/share/backgrounds/*.jpg", "usr/share/backgrounds/*.png"],
        "CC-BY-SA-3.0 (see debian/copyright of ukui-wallpapers)",
    ),
    "kodi-data": (
        ["usr/share/kodi/addons/skin.estuary/extras/backgrounds/*.jpg",
         "usr/share/kodi/addons/skin.estuary/extras/home-images/*.jpg"],
        "CC0 / GPL-2+ (see debian/copyright of kodi-data)",
    ),
    "digikam-data": (
        ["usr/share/digikam/about/images/*.jpg", "usr/share/digikam/data/*.png",
         "usr/share/digikam/themes/html5responsive/resources/images/*/*.jpg"],
        "GPL-2+ (see debian/copyright of digikam-data)",
    ),
    "sddm-theme-maldives": (
        ["usr/share/sddm/themes/maldives/*.jpg"],
        "CC-BY-3.0 (see debian/copyright of sddm-theme-maldives)",
    ),
    "scribus-template": (
        ["usr/share/scribus/templates/*/*.jpg"],
        "GPL-2+ (see debian/copyright of scribus-template)",
    ),
    "python3-scipy": (
        ["_extracted/face.png"],  # scipy/misc/face.dat: bz2 of a 768x1024x3 uint8 array (see extract_scipy_face)
        "BSD-3-Clause (see debian/copyright of python3-scipy)",
    ),
    "tuxtype-data": (
        ["usr/share/tuxtype/images/kcas*.jpg", "usr/share/tuxtype/images/backgrounds/*.jpg"],
        "GPL-2+ (see debian/copyright of tuxtype-data)",
    ),
    "palapeli-data": (
        ["usr/share/palapeli/collection/*.jpg"],
        "GPL-2+ / per-picture licence in collection/*.desktop (see debian/copyright of palapeli-data)",
    ),
}

MIN_FACTOR = 2.0          # downscale at least this much: hides the source's own JPEG blocks and noise
MAX_LONG = 768            # long side cap of a reference (keeps render + signals + training inside the budget)
MIN_SHORT = 256           # a reference must hold a native 224 crop with some room to move
TILE = (640, 480)         # extra tiles cut from big sources at the minimum factor (a closer view)
MAX_TILES = 1             # was 4: with ~4x the distinct pictures, tiles would mostly cost render/training time
ORIGINAL_PACKAGES = {"plasma-workspace-wallpapers", "mate-backgrounds", "tuxpaint-data", "wesnoth-1.16-data",
                     "python3-skimage", "opencv-doc"}
NEW_MIN_SOURCE_SHORT = 640  # issue 16's bar for the added packages: photographs with a short side >= 640
# One package must not dominate the content mix: endless-sky alone has ~270 landscapes. Pictures beyond the
# cap (a seeded, name-based draw) form the "surplus" pool: filtered and de-duplicated after every other picture
# (so they never displace one), training-only (dataset.py), and down-weighted by train.py's package balance.
MAX_PICTURES_PER_PACKAGE = 110
GRADED_CORR = 0.94          # z-scored 32x32 grey thumbnails this correlated = the same picture, colour-graded


def run(cmd, cwd=None):
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def fetch_package(pkg, debs_dir, tree_dir):
    """apt-get download + dpkg -x; returns the package version."""
    os.makedirs(debs_dir, exist_ok=True)
    debs = glob.glob(os.path.join(debs_dir, f"{pkg}_*.deb"))
    if not debs:
        run(["apt-get", "download", pkg], cwd=debs_dir)
        debs = glob.glob(os.path.join(debs_dir, f"{pkg}_*.deb"))
    deb = sorted(debs)[-1]
    version = subprocess.run(["dpkg-deb", "-f", deb, "Version"], check=True, capture_output=True,
                             text=True).stdout.strip()
    out = os.path.join(tree_dir, pkg)
    if not os.path.isdir(out):
        os.makedirs(out + ".tmp", exist_ok=True)
        run(["dpkg", "-x", deb, out + ".tmp"])
        os.rename(out + ".tmp", out)
    return version


def extract_edj(root):
    """Enlightenment backgrounds are EET containers; their image entries hold plain JPEG streams. Keep the
    largest JPEG found in each file (the full-resolution rendition)."""
    out_dir = os.path.join(root, "_extracted", "backgrounds")
    if os.path.isdir(out_dir):
        return
    os.makedirs(out_dir + ".tmp", exist_ok=True)
    import io
    for path in sorted(glob.glob(os.path.join(root, "usr/share/enlightenment/data/backgrounds/*.edj"))):
        blob = open(path, "rb").read()
        best = None
        start = blob.find(b"\xff\xd8\xff")
        while start >= 0:
            try:
                with Image.open(io.BytesIO(blob[start:])) as im:
                    size = im.size[0] * im.size[1]
                if best is None or size > best[0]:
                    best = (size, start)
            except Exception:
                pass
            start = blob.find(b"\xff\xd8\xff", start + 3)
        if best is not None:
            with Image.open(io.BytesIO(blob[best[1]:])) as im:
                im.convert("RGB").save(os.path.join(out_dir + ".tmp", os.path.basename(path)[:-4] + ".jpg"),
                                       quality=98, subsampling=0)
    os.rename(out_dir + ".tmp", out_dir)


def extract_scipy_face(root):
    import bz2
    out = os.path.join(root, "_extracted", "face.png")
    if os.path.exists(out):
        return
    raw = bz2.decompress(open(os.path.join(root, "usr/lib/python3/dist-packages/scipy/misc/face.dat"), "rb").read())
    os.makedirs(os.path.dirname(out), exist_ok=True)
    Image.fromarray(np.frombuffer(raw, np.uint8).reshape(768, 1024, 3)).save(out)


EXTRACTORS = {"enlightenment-data": extract_edj, "python3-scipy": extract_scipy_face}


def grey_thumb(img):
    g = np.asarray(img.convert("L").resize((32, 32), Image.BILINEAR), dtype=np.float32).flatten()
    g -= g.mean()
    n = np.linalg.norm(g)
    return g / n if n > 0 else g


def group_key(pkg, rel):
    """Sources that are the same picture at several resolutions share a key."""
    if pkg == "plasma-workspace-wallpapers":
        return rel.split("/")[3]  # usr/share/wallpapers/<Name>/contents/images/<WxH>.jpg
    stem = os.path.splitext(os.path.basename(rel))[0]
    return re.sub(r"[_-]?\d{3,5}x\d{3,5}$", "", stem)


def dhash(img):
    g = np.asarray(img.convert("L").resize((17, 16), Image.BILINEAR), dtype=np.float32)
    return (g[:, 1:] > g[:, :-1]).flatten()


def to_rgb(img):
    """RGB or None when the picture relies on transparency (a sprite on nothing)."""
    if img.mode in ("RGBA", "LA") or (img.mode == "P" and "transparency" in img.info):
        rgba = img.convert("RGBA")
        alpha = np.asarray(rgba)[:, :, 3]
        if (alpha < 250).mean() > 0.005:
            return None
        return rgba.convert("RGB")
    return img.convert("RGB")


def texture_stats(rgb):
    a = np.asarray(rgb, dtype=np.float32)
    g = a.mean(axis=2)
    gx = np.abs(np.diff(g, axis=1))[:-1, :]
    gy = np.abs(np.diff(g, axis=0))[:, :-1]
    grad = np.maximum(gx, gy)
    textured = float((grad > 3.0).mean())     # share of pixels with visible local detail
    flat = float((grad < 0.5).mean())         # share of perfectly flat pixels (vector fills)
    q = (a[::2, ::2] // 8).astype(np.int32)
    colours = int(np.unique(q[..., 0] * 1024 + q[..., 1] * 32 + q[..., 2]).size)
    chroma = float(np.abs(a - a.mean(axis=2, keepdims=True)).mean())
    return {"textured": textured, "flat": flat, "colours": colours, "chroma": chroma}


def acceptable(stats):
    return (stats["textured"] >= 0.08 and stats["flat"] <= 0.45 and stats["colours"] >= 250
            and stats["chroma"] >= 3.0)


def downscale(img, factor):
    w, h = img.size
    size = (max(1, round(w / factor)), max(1, round(h / factor)))
    # reduce() box-averages first (area filter), Lanczos finishes the fractional part.
    k = int(factor)
    small = img.reduce(k) if k >= 2 else img
    return small.resize(size, Image.LANCZOS)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "..", "data"))
    args = ap.parse_args()
    data = os.path.abspath(args.data)
    out_dir = os.path.join(data, "refs")
    csv_path = os.path.join(out_dir, "refs.csv")
    if os.path.exists(csv_path):
        print(f"sources: {csv_path} exists, skipping")
        return
    debs_dir, tree_dir = os.path.join(data, "debs"), os.path.join(data, "x")

    versions = {}
    candidates = {}  # (pkg, key) -> list of (pixels, path)
    for pkg, (globs, _) in PACKAGES.items():
        versions[pkg] = fetch_package(pkg, debs_dir, tree_dir)
        root = os.path.join(tree_dir, pkg)
        if pkg in EXTRACTORS:
            EXTRACTORS[pkg](root)
        for pattern in globs:
            for path in glob.glob(os.path.join(root, pattern), recursive=True):
                rel = os.path.relpath(path, root)
                if "images_dark" in rel or "/l10n/" in rel:
                    continue
                try:
                    with Image.open(path) as im:
                        w, h = im.size
                except Exception:
                    continue
                real = os.path.relpath(os.path.realpath(path), root)  # renditions are often symlinks
                candidates.setdefault((pkg, group_key(pkg, rel)), []).append((w * h, path, real))

    os.makedirs(out_dir + ".tmp", exist_ok=True)
    rows, hashes, thumbs, rejected = [], [], [], []
    kept_per_pkg = {}
    # The original six packages first (their references keep their place), then the added ones; within a
    # package a seeded name hash orders the pictures, so the cap keeps a reproducible random subset.
    def order(item):
        (pkg, key), _ = item
        return (pkg not in ORIGINAL_PACKAGES, pkg, hashlib.sha1(f"{pkg}/{key}".encode()).hexdigest())

    surplus = []

    def consider(pkg, key, items, pool):
        _, path, rel = max(items)  # the largest rendition of a picture
        with Image.open(path) as im:
            rgb = to_rgb(im)
        if rgb is None:
            rejected.append((pkg, rel, "transparent"))
            return
        w, h = rgb.size
        if pkg not in ORIGINAL_PACKAGES and min(w, h) < NEW_MIN_SOURCE_SHORT:
            rejected.append((pkg, rel, f"short side < {NEW_MIN_SOURCE_SHORT}: {w}x{h}"))
            return
        factor = max(MIN_FACTOR, max(w, h) / MAX_LONG)
        if min(w, h) / factor < MIN_SHORT:
            rejected.append((pkg, rel, f"too small {w}x{h}"))
            return
        h16 = dhash(rgb)
        if any((h16 != o).sum() <= 12 for o in hashes):
            rejected.append((pkg, rel, "duplicate"))
            return
        # The difference hash misses colour-graded copies (breeze's "Next" is enlightenment's "Mountain",
        # graded): compare the normalised grey layout as well.
        th = grey_thumb(rgb)
        if thumbs and float(np.max(np.stack(thumbs) @ th)) >= GRADED_CORR:
            rejected.append((pkg, rel, "duplicate (graded)"))
            return
        ref = downscale(rgb, factor)
        stats = texture_stats(ref)
        if not acceptable(stats):
            rejected.append((pkg, rel, "flat " + json.dumps({k: round(v, 3) for k, v in stats.items()})))
            return
        hashes.append(h16)
        thumbs.append(th)
        kept_per_pkg[pkg] = kept_per_pkg.get(pkg, 0) + 1
        group = hashlib.sha1(f"{pkg}/{rel}".encode()).hexdigest()[:10]
        views = [("whole", ref, factor)]
        # Big sources also give closer views at the minimum factor: more references from the
        # same picture, kept in one split through `group`.
        near = downscale(rgb, MIN_FACTOR) if factor > MIN_FACTOR * 1.2 else None
        if near is not None:
            nw, nh = near.size
            tw, th = TILE if nw >= nh else TILE[::-1]
            spots = []
            for fx in (0.0, 0.25, 0.5, 0.75, 1.0):
                for fy in (0.0, 0.5, 1.0):
                    x, y = int((nw - tw) * fx), int((nh - th) * fy)
                    tile = near.crop((x, y, x + tw, y + th))
                    s = texture_stats(tile)
                    if acceptable(s):
                        spots.append((s["textured"], x, y, tile))
            chosen = []
            for _, x, y, tile in sorted(spots, key=lambda t: -t[0]):
                if all(abs(x - cx) >= tw or abs(y - cy) >= th for cx, cy in chosen):
                    chosen.append((x, y))
                    views.append((f"tile{len(chosen)}", tile, MIN_FACTOR))
                if len(chosen) >= MAX_TILES:
                    break
        for view, img, f in views:
            rid = f"{pkg.split('-')[0][:8]}-{re.sub('[^A-Za-z0-9]+', '_', key)[:40]}-{view}"
            img.save(os.path.join(out_dir + ".tmp", rid + ".png"), compress_level=3)
            rows.append({"id": rid, "group": group, "package": pkg, "version": versions[pkg],
                         "original_path": rel, "license": PACKAGES[pkg][1], "view": view,
                         "factor": round(f, 3), "w": img.size[0], "h": img.size[1], "pool": pool})

    for (pkg, key), items in sorted(candidates.items(), key=order):
        if kept_per_pkg.get(pkg, 0) >= MAX_PICTURES_PER_PACKAGE:
            surplus.append((pkg, key, items))
            continue
        consider(pkg, key, items, "main")
    # The cap's surplus last: de-duplicated against every picture above, never displacing one of them.
    for pkg, key, items in surplus:
        consider(pkg, key, items, "surplus")

    with open(os.path.join(out_dir + ".tmp", "refs.csv"), "w", newline="") as fh:
        wr = csv.DictWriter(fh, fieldnames=list(rows[0].keys()))
        wr.writeheader()
        wr.writerows(rows)
    with open(os.path.join(out_dir + ".tmp", "rejected.csv"), "w", newline="") as fh:
        csv.writer(fh).writerows([("package", "path", "reason")] + rejected)
    with open(os.path.join(out_dir + ".tmp", "packages.json"), "w") as fh:
        json.dump({p: {"version": versions[p], "license": PACKAGES[p][1]} for p in PACKAGES}, fh, indent=2)
    os.rename(out_dir + ".tmp", out_dir)
    by_pkg = {}
    for r in rows:
        by_pkg[r["package"]] = by_pkg.get(r["package"], 0) + 1
    print(f"sources: {len(rows)} references ({len({r['group'] for r in rows})} pictures) {by_pkg}; "
          f"{len(rejected)} rejected", file=sys.stderr)


if __name__ == "__main__":
    main()
