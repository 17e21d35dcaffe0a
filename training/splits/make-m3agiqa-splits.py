"""Writes the M3-AGIQA paper's train/test lists as name-only CSVs (training/splits/m3-agiqa/).

Source: a checkout of github.com/strawhatboy/M3-AGIQA (MIT licence), its data_processed/ folder:
JSON arrays of {id, image, conversations}; the image's basename is the dataset's file name. Only the
names are kept (no descriptions), in the file's order. Usage:
    python3 training/splits/make-m3agiqa-splits.py /path/to/M3-AGIQA
"""
import csv
import json
import os
import sys

LISTS = {
    "agiqa-3k": [
        "directly_train_cls_minicpm_quality_multiround.jsonl",
        "directly_test_cls_minicpm_quality_multiround.jsonl",
        "gemini_train_cls_4_minicpm_alignment_multiround.jsonl",
        "gemini_test_cls_4_minicpm_alignment_multiround.jsonl",
    ],
    "aigciqa2023": [
        f"gemini_on_minicpmv2_5_{split}_{aspect}.json" for aspect in ("quality", "alignment", "authenticity") for split in ("train", "val")
    ],
}


def main(repo: str) -> None:
    out_root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "m3-agiqa")
    for dataset, files in LISTS.items():
        os.makedirs(os.path.join(out_root, dataset), exist_ok=True)
        for name in files:
            with open(os.path.join(repo, "data_processed", dataset, name), encoding="utf-8") as f:
                entries = json.load(f)
            stem = name.rsplit(".", 1)[0]
            with open(os.path.join(out_root, dataset, f"{stem}.csv"), "w", newline="", encoding="utf-8") as f:
                writer = csv.writer(f, lineterminator="\n")
                writer.writerow(["name"])
                for entry in entries:
                    writer.writerow([os.path.basename(entry["image"].replace("\\", "/"))])
            print(f"{dataset}/{stem}.csv {len(entries)}")


if __name__ == "__main__":
    main(sys.argv[1])
