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

VARIANTS = ["frozen_signals_ens", "finetune_signals", "finetune_only", "frozen_signals", "signals_only"]
SHIPPED = "frozen_signals_ens"
# Bump whenever quality.onnx or detector.onnx changes: the server answers a repeated image + prompt from its
# database for the same pack name and version, so a new model under an old version would keep serving old scores.
PACK_VERSION = "0.3.0"
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
    "Shipped: frozen_signals_ens = the backbone exactly as converted (no fine-tuning) + classical signals + the "
    "per-channel mean/std of the block-12 output, three heads (seeds 0-2) averaged in one graph. Heads were trained "
    "on five crop positions per training reference (centre + four seeded random), so they see more of each picture.",
    "Why frozen: with ~60 training pictures the fine-tuned stage mostly memorised them (train SRCC 0.97 vs test "
    "0.69); heads on the frozen backbone with the same budget generalised better on val and test, and a frozen "
    "backbone makes more crop positions and several heads affordable on this CPU.",
    "The earlier variants (finetune_signals, shipped before; finetune_only; frozen_signals on one position; "
    "signals_only) are kept as ablations with their own budgets; epochsRun and seconds per run are in runs.*.",
    "The shipped quality.onnx is the int8 quantization of that model (training/lite/quantize.py: stem and blocks 0-1 "
    "float, the rest int8; calibrated on 300 training crops); metrics.heldOut is measured on it through the "
    "TypeScript runtime (agiqa eval), metrics.floatModel is the float model's own test result from train.py.",
    "Synthetic MOS treats equal levels of different distortion types as equally bad; colour_cast in particular is "
    "hard to judge without a reference (a cast can be the content's own colour).",
]


def r4(x):
    return None if x is None or x != x else round(float(x), 4)


def runtime_metrics(data, report_path):
    """Metrics of an `agiqa eval --report` (predictions by dataset path) against the synthetic MOS."""
    by_path = {r["path"]: r for r in load_dataset(os.path.join(data, "dataset"))}
    predictions = json.load(open(report_path))["predictions"]
    return evaluate([by_path[p["name"]] for p in predictions], [p["predicted"]["quality"] for p in predictions])


def main():
    ap = argparse.ArgumentParser()
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--data", default=os.path.join(here, "..", "data"))
    ap.add_argument("--pack", default=os.path.join(here, "..", "..", "models", "lite"))
    ap.add_argument("--crops", type=int, default=1)
    ap.add_argument("--runtime-eval", help="`agiqa eval --report` of the shipped pack on the test split")
    ap.add_argument("--runtime-eval-val", help="the same on the val split")
    args = ap.parse_args()
    data, pack = os.path.abspath(args.data), os.path.abspath(args.pack)

    packages = json.load(open(os.path.join(data, "refs", "packages.json")))
    refs = list(csv.DictReader(open(os.path.join(data, "refs", "refs.csv"))))
    rows = list(csv.DictReader(open(os.path.join(data, "dataset", "dataset.csv"))))
    sig = json.load(open(os.path.join(data, "signals", "signals.json")))
    runs = {v: json.load(open(os.path.join(data, "runs", v, "metrics.json")))
            for v in VARIANTS if os.path.exists(os.path.join(data, "runs", v, "metrics.json"))}
    main_run = runs[SHIPPED]
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

    ref_split = {}
    for r in rows:
        ref_split[r["ref"]] = r["split"]
    split_refs = {s: sum(1 for v in ref_split.values() if v == s) for s in FRACTIONS}
    split_images = {s: sum(1 for r in rows if r["split"] == s) for s in FRACTIONS}
    per_pkg = {}
    for r in refs:
        per_pkg[r["package"]] = per_pkg.get(r["package"], 0) + 1
    data_text = ("synthetic distortions of {n} pristine references ({g} source pictures) from Debian packages: {p}; "
                 "{d} distortion types x 5 levels; {i} images").format(
        n=len(refs), g=len({r['group'] for r in refs}),
        p=", ".join(f"{k} {packages[k]['version']} ({per_pkg.get(k, 0)} refs, {packages[k]['license']})"
                    for k in sorted(packages)),
        d=len(DISTORTIONS), i=len(rows))

    onnx_path = os.path.join(pack, "quality.onnx")
    blob = open(onnx_path, "rb").read()
    detector = open(os.path.join(pack, DETECTOR["path"]), "rb").read()
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
        "license": "MIT",
        "aspects": ["quality", "correspondence"],
        "files": [{"path": "quality.onnx", "sha256": hashlib.sha256(blob).hexdigest(), "bytes": len(blob),
                   "license": "MIT",
                   "source": "the MobileNetV2 of nsfwjs@4.3.0 (MIT, weights as converted) + heads trained by "
                             "training/lite/run.sh; convolutions quantized to int8 by training/lite/quantize.py"},
                  {"path": DETECTOR["path"], "sha256": hashlib.sha256(detector).hexdigest(), "bytes": len(detector),
                   "license": DETECTOR["license"], "source": DETECTOR["source"]}],
        "input": {"kind": "lite-crops", "cropSize": 224, "crops": args.crops,
                  "signalsVersion": sig["version"], "signalCount": len(sig["names"])},
        "models": {"quality": {"file": "quality.onnx"}, "detector": {"file": DETECTOR["path"]}},
        "predictor": None,
        "training": {
            "data": data_text,
            "recipe": "training/lite/README.md",
            "command": "bash training/lite/run.sh",
            "seed": SEED,
            "split": {"train": split_refs["train"], "val": split_refs["val"], "test": split_refs["test"],
                      "by": "reference image"},
            "syntheticMos": "mos = 4.5 - 0.8*level",
            "epochs": main_run["epochsRun"],
            "selectedOn": "val SRCC",
        },
        "metrics": {
            "heldOut": {
                "split": "test", "images": test["images"], "references": test["references"],
                "srcc": r4(test["srcc"]), "plcc": r4(test["plcc"]), "plccLogistic": r4(test["plccLogistic"]),
                "krcc": r4(test["krcc"]), "rmse": r4(test["rmse"]),
                "mildPairAccuracy": r4(test["mildPairAccuracy"]),
                "perDistortion": {k: {"srcc": r4(v["srcc"]), "mildPairAccuracy": r4(v["mildPairAccuracy"])}
                                  for k, v in test["perDistortion"].items()},
            },
            "measuredWith": measured_with,
            **({"validation": {k: r4(runtime_val[k]) for k in ("srcc", "plcc", "mildPairAccuracy")}} if runtime_val else {}),
            "floatModel": {k: r4(main_run["test"][k]) for k in ("srcc", "plcc", "krcc", "rmse", "mildPairAccuracy")},
            "ablation": {v: {"srcc": r4(m["test"]["srcc"]), "mildPairAccuracy": r4(m["test"]["mildPairAccuracy"])}
                         for v, m in runs.items()},
        },
    }
    json.dump(pack_json, open(os.path.join(pack, "pack.json"), "w"), indent=2)
    logs = {}
    for v in runs:
        path = os.path.join(data, "runs", v, "log.jsonl")
        logs[v] = [json.loads(line) for line in open(path) if '"epoch"' in line and '"event": "epoch"' in line]
    others = {}
    for name in sorted(os.listdir(os.path.join(data, "runs"))):
        path = os.path.join(data, "runs", name, "metrics.json")
        if name not in runs and os.path.exists(path):
            others[name] = json.load(open(path))
    report = {
        "pack": "lite", "shipped": SHIPPED, "crops": args.crops,
        "notes": NOTES,
        "otherRuns": others,
        "dataset": {"references": len(refs), "pictures": len({r['group'] for r in refs}),
                    "referencesPerPackage": per_pkg, "packages": packages,
                    "splitReferences": split_refs, "splitImages": split_images,
                    "distortions": list(DISTORTIONS), "levels": [1, 2, 3, 4, 5],
                    "syntheticMos": "mos = 4.5 - 0.8*level (clean = level 0 = 4.5)"},
        "signals": {"version": sig["version"], "names": sig["names"]},
        "runs": runs,
        "valEpochs": logs,
    }
    json.dump(report, open(os.path.join(pack, "training-report.json"), "w"), indent=2)
    total = sum(os.path.getsize(os.path.join(pack, f)) for f in os.listdir(pack))
    print(f"report: wrote pack.json and training-report.json; models/lite is {total / 2**20:.1f} MiB", file=sys.stderr)


if __name__ == "__main__":
    main()
