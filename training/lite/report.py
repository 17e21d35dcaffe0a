"""Write models/lite/pack.json and models/lite/training-report.json from the runs' metrics.

    /usr/bin/python3 training/lite/report.py [--data training/data] [--pack models/lite]
"""
import argparse
import csv
import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from common import evaluate, load_dataset  # noqa: E402
from dataset import FRACTIONS, SEED  # noqa: E402
from distortions import DISTORTIONS  # noqa: E402
from predictor_ablation import measured_entry, predictor_sections  # noqa: E402
from sources import ORIGINAL_PACKAGES  # noqa: E402

# The shipped run first, then the ablations that justify each change (run.sh has their exact flags).
VARIANTS = ["frozen_signals_ens", "no_banding", "no_clean_pair", "finetune_fresh", "no_surplus", "package_cap",
            "original_pictures", "no_new_types", "signals_only"]
OTHER_RUNS_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "other-runs.json")
ABLATION_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "predictor", "lite-ablation.json")
MANIFEST = "training/lite/split-manifest.csv"
SHIPPED = "frozen_signals_ens"  # default of --shipped (run.sh passes the run it ships)
# Bump whenever quality.onnx or detector.onnx changes: the server answers a repeated image + prompt from its
# database for the same pack name and version, so a new model under an old version would keep serving old scores.
PACK_VERSION = "0.6.0"
# The object detector behind the correspondence checks is converted, not trained here (see src/scoring/rounds/
# object-checks-round.ts); report.py only carries its entry so a retrain keeps it in the pack.
DETECTOR = {
    "path": "detector.onnx",
    "license": "MIT (as distributed in @vladmandic/human 3.3.6, whose wiki credits the model to "
               "github.com/610265158/mobilenetv3_centernet; that repository states no licence of its own)",
    "source": "models/centernet.json+.bin of @vladmandic/human@3.3.6 (MobileNetV3-large CenterNet trained on COCO 2017, "
              "float16 weights), converted op for op to ONNX by `npx tsx tools/tfjs-to-onnx/cli.ts --model centernet "
              "--out models/lite/detector.onnx` (weights stay float16)",
}
NOTES = [
    "Shipped: frozen_signals_ens = the backbone exactly as converted (no fine-tuning) + classical signals (signals-3) + "
    "the per-channel mean/std of the block-12 output, three heads (seeds 0-2) averaged in one graph, trained on three "
    "crop positions per training reference (the runtime centre crop + two seeded random positions); dropout, epochs "
    "and positions chosen on val for pack 0.4.0; runs that neither ship nor justify a change are in "
    "training/lite/other-runs.json.",
    "Pack 0.6.0 = pack 0.5.0's recipe + four banding measures (signals-3: steps between flat luma runs in smooth "
    "gradients, src/signals/banding.ts, measured first as probe_banding in numpy) + an extra hinge of weight 1 on "
    "(clean, level-1) crops of one reference and position (train.py --clean-pair-weight 1, margin 0.5). Ablations on "
    "the same code and data: no_banding (--drop-signals: signals-2's 72 values), no_clean_pair (weight 0). Chosen on "
    "val over two seeds (other-runs.json: probe_banding_cp1, seed7_*), and checked on val through agiqa eval on the "
    "int8 file before test was scored.",
    "Pack 0.5.0 added the package cap's surplus: the 154 endless-sky pictures beyond the 110-picture cap join the "
    "training split only, so val and test are pack 0.4.0's pictures; 324 training pictures instead of 170. no_surplus "
    "(--main-pool-only) and package_cap (endless-sky limited to 77 pictures per epoch, a fresh draw each) are its "
    "ablations, rerun on pack 0.6.0's configuration.",
    "Issue 16: 402 distinct source pictures from 18 Debian packages (88 from 6 before); 18 distortion types (4 new: "
    "over_saturation, washed_out, banding, brightness_shift; colour_cast and webp widened). Training references get 2 "
    "seeded levels of every type, val/test the full grid.",
    "original_pictures (training rows of the first six packages only), no_new_types (without the four new types) and "
    "signals_only (the signal MLP alone) justify pack 0.4.0's changes, rerun on pack 0.6.0's configuration.",
    "finetune_fresh: blocks 15-16 and the 1280-channel conv fine-tuned with the frozen ensemble's heads (its start) on "
    "a fresh random crop per training reference each epoch (train.py --fresh-crops); not shipped unless it beats its "
    "start on val.",
    "The shipped quality.onnx is the int8 quantization of that model (training/lite/quantize.py: stem and blocks 0-1 "
    "float, the rest int8; calibrated on 300 training crops); metrics.heldOut is measured on it through the "
    "TypeScript runtime (agiqa eval, whose own SRCC/PLCC/logistic PLCC/KRCC/RMSE are copied), metrics.floatModel is "
    "the float model's own test result from train.py. The previous pack is measured by its own code (a worktree of "
    "its commit: it reads signals-2).",
    "Synthetic MOS treats equal levels of different distortion types as equally bad (mos = 4.5 - 0.8*level for "
    "every type); colour_cast in particular is hard to judge without a reference.",
]


def r4(x):
    return None if x is None or x != x else round(float(x), 4)


def round_floats(obj):
    """Every float in a run's metrics to 4 decimals: other-runs.json stays small enough to read in a diff."""
    if isinstance(obj, float):
        return r4(obj)
    if isinstance(obj, dict):
        return {k: round_floats(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [round_floats(v) for v in obj]
    return obj


def runtime_metrics(data, report_path, refs=None):
    """Metrics of an `agiqa eval --report` (predictions by dataset path) against the synthetic MOS; the
    correlation figures agiqa eval computed itself (SRCC, PLCC, logistic PLCC, KRCC, RMSE) replace ours.
    `refs`: only these references (then every figure is ours)."""
    by_path = {r["path"]: r for r in load_dataset(os.path.join(data, "dataset"))}
    report = json.load(open(report_path))
    predictions = [p for p in report["predictions"] if refs is None or by_path[p["name"]]["ref"] in refs]
    out = evaluate([by_path[p["name"]] for p in predictions], [p["predicted"]["quality"] for p in predictions])
    if refs is None:
        q = report["aspects"]["quality"]
        out.update({"srcc": q["srcc"], "plcc": q["plcc"], "plccLogistic": q["plccLogistic"], "krcc": q["krcc"],
                    "rmse": q["rmse"], "computedBy": "agiqa eval (srcc, plcc, plccLogistic, krcc, rmse); "
                    "training/lite/common.py (per type, per level, clean vs level 1)"})
    return out


def brief(m):
    keys = ("images", "references", "srcc", "plcc", "plccLogistic", "krcc", "rmse", "mildPairAccuracy")
    out = {k: r4(m[k]) if k not in ("images", "references") else m[k] for k in keys if k in m}
    if "perDistortion" in m:
        out["perDistortion"] = {k: {"srcc": r4(v["srcc"]), "mildPairAccuracy": r4(v["mildPairAccuracy"])}
                                for k, v in m["perDistortion"].items()}
    if "perLevel" in m:  # the mean score per level: where clean pictures sit (issue 16's clean-picture regression)
        out["meanPredictedPerLevel"] = {k: r4(v["meanPredicted"]) for k, v in m["perLevel"].items()}
    return out


def write_ablation(pack_json, runs, test, runtime_val, previous, shipped_run, predictor=None):
    """training/predictor/lite-ablation.json, from the shipped file and the runs (never edited by hand). The
    M3 predictor's measurement on this encoder (`predictor`: the pack agiqa train wrote, see
    predictor_ablation.py) and those on earlier encoders (`predictorEarlier`, each with its encoder's hash)."""
    old = json.load(open(ABLATION_FILE)) if os.path.exists(ABLATION_FILE) else {}
    shipped = next(f for f in pack_json["files"] if f["path"] == "quality.onnx")
    measured = None
    if predictor is not None:
        trained = json.load(open(os.path.join(predictor["pack"], "pack.json")))
        evals = {split: json.load(open(path)) for split, path in predictor["evals"].items() if path}
        measured = measured_entry(trained, {"file": "quality.onnx", "sha256": shipped["sha256"]},
                                  predictor["trainerArgs"], evals, pack_json["predictor"])
    current, earlier = predictor_sections(old, shipped["sha256"], measured)
    out = {
        "writtenBy": "training/lite/report.py (bash training/lite/run.sh); do not edit by hand",
        "pack": {"name": pack_json["name"], "version": pack_json["version"]},
        "encoder": {"file": "quality.onnx", "sha256": shipped["sha256"], "bytes": shipped["bytes"]},
        "selectedOn": "val SRCC (checkpoints and variants); test scored once per run",
        "split": pack_json["training"]["split"],
        "quality": {
            "shipped": {"variant": shipped_run, "test": brief(test),
                        **({"val": brief(runtime_val)} if runtime_val else {}),
                        "measuredWith": "agiqa eval on the shipped quality.onnx"},
            "variants": {v: {"val": brief(m.get("valFull", m["val"])), "test": brief(m["test"]), "heads": m.get("heads"),
                             "trainPictures": m.get("trainPictures"),
                             "seconds": m.get("seconds"),
                             "measuredWith": "train.py, float model, " + ("fresh crops from the images, fine-tuned upper "
                                                                          "backbone" if m.get("freshCrops") else "cached features")}
                         for v, m in runs.items()},
            **({"previousPack": previous} if previous else {}),
        },
        "predictor": current,
        "predictorEarlier": earlier,
    }
    json.dump(out, open(ABLATION_FILE, "w"), indent=2)
    open(ABLATION_FILE, "a").write("\n")


def main():
    ap = argparse.ArgumentParser()
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--data", default=os.path.join(here, "..", "data"))
    ap.add_argument("--pack", default=os.path.join(here, "..", "..", "models", "lite"))
    ap.add_argument("--crops", type=int, default=1)
    ap.add_argument("--shipped", default=SHIPPED, help="the run exported to quality.onnx")
    ap.add_argument("--runtime-eval", help="`agiqa eval --report` of the shipped pack on the test split")
    ap.add_argument("--runtime-eval-val", help="the same on the val split")
    ap.add_argument("--previous-eval", help="`agiqa eval --report` of the previous pack on the same test split")
    ap.add_argument("--previous-eval-val", help="the same on the val split (what the new pack had to beat)")
    ap.add_argument("--previous-pack", default="lite 0.5.0 (git bd152f9)", help="what --previous-eval measured")
    ap.add_argument("--predictor-pack", help="the pack `agiqa train --pack lite` wrote on this encoder (its ablation: "
                    "xLSTM vs MLP vs head)")
    ap.add_argument("--predictor-eval", help="`agiqa eval --report` of --predictor-pack on the test split")
    ap.add_argument("--predictor-eval-val", help="the same on the val split")
    ap.add_argument("--predictor-trainer-args", default="", help="the --trainer-arg flags it was trained with, as text")
    args = ap.parse_args()
    data, pack = os.path.abspath(args.data), os.path.abspath(args.pack)

    packages = json.load(open(os.path.join(data, "refs", "packages.json")))
    refs = list(csv.DictReader(open(os.path.join(data, "refs", "refs.csv"))))
    rows = list(csv.DictReader(open(os.path.join(data, "dataset", "dataset.csv"))))
    sig = json.load(open(os.path.join(data, "signals", "signals.json")))
    runs = {v: json.load(open(os.path.join(data, "runs", v, "metrics.json")))
            for v in VARIANTS if os.path.exists(os.path.join(data, "runs", v, "metrics.json"))}
    # Each run's val figures in full (per type, per level) from its predictions (train.py keeps only the summary).
    by_path_rows = {r["path"]: r for r in load_dataset(os.path.join(data, "dataset"))}
    for v, m in runs.items():
        pred_path = os.path.join(data, "runs", v, "predictions.json")
        if os.path.exists(pred_path):
            pred = json.load(open(pred_path))
            val_rows = [r for p_, r in by_path_rows.items() if r["split"] == "val" and p_ in pred]
            m["valFull"] = evaluate(val_rows, [pred[r["path"]] for r in val_rows])
    main_run = runs[args.shipped]
    test = main_run["test"]
    measured_with = "PyTorch, float model, cached features (train.py)"
    runtime_val = None
    if args.runtime_eval:
        # The shipped file is the int8 quantization of the trained float model: its held-out numbers are
        # measured on that file, through the TypeScript runtime users run (decode, signals, crops, onnxruntime).
        test = runtime_metrics(data, args.runtime_eval)
        measured_with = "agiqa eval: the shipped quality.onnx (int8) through the TypeScript runtime"
        if args.runtime_eval_val:
            runtime_val = runtime_metrics(data, args.runtime_eval_val)
    previous = None
    if args.previous_eval and args.runtime_eval:
        # Both packs on the same test split; also on the references of the added packages alone (pictures the
        # previous pack can never have trained on).
        new_refs = {r["ref"] for r in rows if r["package"] not in ORIGINAL_PACKAGES and r["split"] == "test"}
        previous = {"pack": args.previous_pack,
                    "test": brief(runtime_metrics(data, args.previous_eval)),
                    **({"val": brief(runtime_metrics(data, args.previous_eval_val))} if args.previous_eval_val else {}),
                    "testAddedPackagesOnly": brief(runtime_metrics(data, args.previous_eval, new_refs)),
                    "shippedOnAddedPackagesOnly": brief(runtime_metrics(data, args.runtime_eval, new_refs))}

    ref_split = {}
    for r in rows:
        ref_split[r["ref"]] = r["split"]
    split_refs = {s: sum(1 for v in ref_split.values() if v == s) for s in FRACTIONS}
    split_images = {s: sum(1 for r in rows if r["split"] == s) for s in FRACTIONS}
    used = {r["ref"] for r in rows}
    per_pkg, pics_pkg = {}, {}
    for r in refs:
        if r["id"] in used:
            per_pkg[r["package"]] = per_pkg.get(r["package"], 0) + 1
            pics_pkg.setdefault(r["package"], set()).add(r["group"])
    pics_pkg = {k: len(v) for k, v in pics_pkg.items()}
    data_text = ("synthetic distortions of {n} pristine references ({g} distinct source pictures) from {np} Debian "
                 "bookworm packages (training.packages); {d} distortion types x 5 levels (val/test: every type and "
                 "level; train: 2 seeded levels per type); {i} images").format(
        n=len(used), g=sum(pics_pkg.values()), np=len(pics_pkg), d=len(DISTORTIONS), i=len(rows))

    onnx_path = os.path.join(pack, "quality.onnx")
    blob = open(onnx_path, "rb").read()
    detector = open(os.path.join(pack, DETECTOR["path"]), "rb").read()
    # The detector is made elsewhere (tools/tfjs-to-onnx); carry its entry's licence and source from the pack
    # as it stands, so a retrain of the quality model never rewrites them.
    det_meta = dict(DETECTOR)
    pack_license = "MIT"
    old_pack = os.path.join(pack, "pack.json")
    if os.path.exists(old_pack):
        old = json.load(open(old_pack))
        # The pack-level licence names the detector's exception: carried too, like the detector's entry.
        pack_license = old.get("license", pack_license)
        for f in old.get("files", []):
            if f.get("path") == DETECTOR["path"]:
                det_meta.update({k: f[k] for k in ("license", "source") if k in f})
    pack_json = {
        "schemaVersion": 1,
        "name": "lite",
        "version": PACK_VERSION,
        "description": ("Embedded default pack: judges the quality aspect (MOS 0-5, bad..excellent) from one "
                        "native-resolution 224 px crop through a frozen MobileNetV2 (int8 convolutions; its pooled features and block-12 "
                        "statistics) combined with classical image signals, three heads averaged. Trained on synthetic "
                        "distortions only: it measures technical degradation, not aesthetics. Correspondence comes from object "
                        "checks: the prompt's COCO objects, counts, colours and relative positions, checked against a "
                        "MobileNetV3 CenterNet detector (COCO 80 classes)."),
        "license": pack_license,
        "aspects": ["quality", "correspondence"],
        "files": [{"path": "quality.onnx", "sha256": hashlib.sha256(blob).hexdigest(), "bytes": len(blob),
                   "license": "MIT",
                   "source": "the MobileNetV2 of nsfwjs@4.3.0 (MIT, weights as converted) + heads trained by "
                             "training/lite/run.sh; convolutions quantized to int8 by training/lite/quantize.py"},
                  {"path": DETECTOR["path"], "sha256": hashlib.sha256(detector).hexdigest(), "bytes": len(detector),
                   "license": det_meta["license"], "source": det_meta["source"]}],
        "input": {"kind": "lite-crops", "cropSize": 224, "crops": args.crops,
                  "signalsVersion": sig["version"], "signalCount": len(sig["names"])},
        "models": {"quality": {"file": "quality.onnx"}, "detector": {"file": DETECTOR["path"]}},
        "predictor": None,
        "training": {
            "data": data_text,
            "recipe": "training/lite/README.md",
            "command": "bash training/lite/run.sh",
            "seed": SEED,
            "packages": {k: {"version": packages[k]["version"], "license": packages[k]["license"],
                             "pictures": pics_pkg.get(k, 0), "references": per_pkg.get(k, 0)} for k in sorted(packages)},
            "split": {"train": split_refs["train"], "val": split_refs["val"], "test": split_refs["test"],
                      "images": split_images,
                      "by": "source picture (a picture and its tiles always share a split; val/test use the whole "
                            "view only), stratified by package, seed 0",
                      "manifest": MANIFEST},
            "syntheticMos": "mos = 4.5 - 0.8*level, every distortion type",
            "epochs": main_run["epochsRun"],
            "selectedOn": "val SRCC",
        },
        "metrics": {
            "heldOut": {
                "split": "test", "images": test["images"], "references": test["references"],
                "srcc": r4(test["srcc"]), "plcc": r4(test["plcc"]), "plccLogistic": r4(test["plccLogistic"]),
                "krcc": r4(test["krcc"]), "rmse": r4(test["rmse"]),
                "computedBy": test.get("computedBy", "training/lite/common.py"),
                "mildPairAccuracy": r4(test["mildPairAccuracy"]),
                "perDistortion": {k: {"srcc": r4(v["srcc"]), "mildPairAccuracy": r4(v["mildPairAccuracy"])}
                                  for k, v in test["perDistortion"].items()},
            },
            "measuredWith": measured_with,
            **({"validation": {k: r4(runtime_val[k]) for k in ("srcc", "plcc", "mildPairAccuracy")}} if runtime_val else {}),
            "floatModel": {k: r4(main_run["test"][k]) for k in ("srcc", "plcc", "krcc", "rmse", "mildPairAccuracy")},
            "ablation": {v: {"valSrcc": r4(m["val"]["srcc"]), "srcc": r4(m["test"]["srcc"]),
                             "mildPairAccuracy": r4(m["test"]["mildPairAccuracy"])} for v, m in runs.items()},
            **({"previousPack": {"pack": previous["pack"], "srcc": previous["test"]["srcc"],
                                 "mildPairAccuracy": previous["test"]["mildPairAccuracy"],
                                 "srccAddedPackagesOnly": previous["testAddedPackagesOnly"]["srcc"],
                                 "shippedSrccAddedPackagesOnly": previous["shippedOnAddedPackagesOnly"]["srcc"]}}
               if previous else {}),
        },
    }
    with open(os.path.join(pack, "pack.json"), "w") as fh:  # ends with a newline, as the committed file
        fh.write(json.dumps(pack_json, indent=2) + "\n")
    if args.runtime_eval:
        predictor = None
        if args.predictor_pack:
            predictor = {"pack": args.predictor_pack, "trainerArgs": args.predictor_trainer_args,
                         "evals": {"test": args.predictor_eval, "val": args.predictor_eval_val}}
        write_ablation(pack_json, runs, test, runtime_val, previous, args.shipped, predictor)
    logs = {}
    for v in runs:
        path = os.path.join(data, "runs", v, "log.jsonl")
        # Per head and epoch: [head, epoch, val SRCC, val clean-vs-level-1] (the pack's size budget is 8 MB).
        logs[v] = [[e["head"], e["epoch"], r4(e["val"]["srcc"]), r4(e["val"]["mildPairAccuracy"])]
                   for e in (json.loads(line) for line in open(path) if '"event": "epoch"' in line)]
    others = {}
    for name in sorted(os.listdir(os.path.join(data, "runs"))):
        path = os.path.join(data, "runs", name, "metrics.json")
        if name not in runs and os.path.exists(path):
            others[name] = round_floats(json.load(open(path)))
    # The runs that do not ship nor justify a change (probes, sweeps) live beside the recipe, not in the pack.
    with open(OTHER_RUNS_FILE, "w") as fh:
        fh.write(json.dumps(others, indent=1) + "\n")
    report = {
        "pack": "lite", "shipped": args.shipped, "crops": args.crops,
        "notes": NOTES,
        "otherRuns": "training/lite/other-runs.json",
        "dataset": {"references": len(used), "pictures": sum(pics_pkg.values()),
                    "referencesPerPackage": per_pkg, "picturesPerPackage": pics_pkg, "packages": packages,
                    "splitReferences": split_refs, "splitImages": split_images,
                    "distortions": list(DISTORTIONS), "levels": [1, 2, 3, 4, 5],
                    "syntheticMos": "mos = 4.5 - 0.8*level (clean = level 0 = 4.5)"},
        "signals": {"version": sig["version"], "names": sig["names"]},
        "runs": runs,
        "valEpochs": {"columns": ["head", "epoch", "valSrcc", "valMildPairAccuracy"], "runs": logs},
    }
    for m in runs.values():
        m.pop("valFull", None)  # in lite-ablation.json (per type and level); the pack keeps the summary
    json.dump(report, open(os.path.join(pack, "training-report.json"), "w"), indent=2)
    total = sum(os.path.getsize(os.path.join(pack, f)) for f in os.listdir(pack))
    print(f"report: wrote pack.json and training-report.json; models/lite is {total / 2**20:.1f} MiB", file=sys.stderr)


if __name__ == "__main__":
    main()
