"""The M3 predictor's part of training/predictor/lite-ablation.json (report.py does the file I/O).

`predictor` is the measurement on the shipped encoder: the ablation that `agiqa train --pack lite` recorded
in the pack it wrote (xLSTM vs MLP vs the quality model's own head, val and test, through the TypeScript
runtime on cached features) and `agiqa eval` of that pack (the winner end to end). `predictorEarlier`
keeps the measurements on earlier encoders, each with the hash of the encoder it was measured on: a
measurement on another encoder moves there instead of being overwritten.
"""
from typing import Any, Dict, List, Optional, Tuple

Json = Dict[str, Any]
EVAL_KEYS = ("n", "srcc", "plcc", "plccLogistic", "krcc", "rmse", "rmseLogistic")
NOT_RETRAINED = ("the M3 predictor (agiqa train --pack lite) was not retrained on this encoder; its earlier "
                 "measurements follow, each with its encoder")


def eval_summary(report: Json) -> Json:
    """Quality figures of an `agiqa eval --report` file (its own SRCC, PLCC, KRCC, RMSE; 4 decimals)."""
    quality = report["aspects"]["quality"]
    return {k: quality[k] if k == "n" else round(float(quality[k]), 4) for k in EVAL_KEYS if quality.get(k) is not None}


def _status(winner: str, selected_on: str, val: Json, shipped: bool) -> str:
    srcc = {c: val[c]["quality"]["srcc"] for c in ("xlstm", "mlp", "head") if c in val}
    order = " > ".join(f"{c} {srcc[c]:.4f}" for c in sorted(srcc, key=lambda c: -srcc[c]))
    where = ("Shipped in models/lite (training/predictor/ship-lite.ts)" if shipped else
             "Measured only: models/lite keeps predictor: null (shipping it would change every lite score; "
             "training/predictor/ship-lite.ts was not run)")
    return f"val SRCC {order}; agiqa train's pick: {winner} (selected on {selected_on}). {where}"


def measured_entry(trained: Json, encoder: Json, trainer_args: str, evals: Dict[str, Json],
                   shipped_predictor: Optional[Json]) -> Json:
    """The `predictor` entry from the pack.json `agiqa train` wrote and `agiqa eval` reports of that pack
    (by split). Raises ValueError when the pack was trained on another encoder than `encoder`."""
    file = next((f for f in trained["files"] if f["path"] == encoder["file"]), None)
    if file is None or file["sha256"] != encoder["sha256"]:
        raise ValueError(f"the predictor pack {trained['name']} was trained on another {encoder['file']} "
                         f"({file and file['sha256']} != {encoder['sha256']}): retrain it (agiqa train --pack lite)")
    ablation, training = trained["metrics"]["ablation"], trained["training"]
    winner = ablation["winner"]
    entry: Json = {
        "encoder": {"file": encoder["file"], "sha256": encoder["sha256"]},
        "trainerArgs": trainer_args,
        "status": _status(winner, ablation["selectedOn"], ablation["val"], shipped_predictor is not None),
        "ablation": {**ablation, "heldOut": trained["metrics"]["heldOut"], "data": training["data"],
                     "split": training["split"], "seed": training["seed"], "trainer": training["trainer"]},
    }
    if evals:
        entry["runtimeEval"] = {
            "pack": f"{trained['name']} {trained['version']}",
            "candidate": winner,
            "measuredWith": "agiqa eval on the pack agiqa train wrote (decode, signals, crop, encoder, "
                            + ("predictor)" if trained.get("predictor") else "the quality model's own head)"),
            **{split: eval_summary(report) for split, report in sorted(evals.items())},
        }
    return entry


def predictor_sections(old: Json, encoder_sha: str, measured: Optional[Json]) -> Tuple[Json, List[Json]]:
    """(`predictor`, `predictorEarlier`) for the file's next version, from its current one `old`. A measured
    entry of `old` on another encoder joins the earlier ones (once); one on this encoder stays when nothing
    new was measured."""
    earlier = old.get("predictorEarlier")
    if earlier is None:  # the file before issue 16: `current` + `earlier`, all predictor runs
        earlier = ([old["current"]] if "current" in old else []) + old.get("earlier", [])
    earlier = list(earlier)
    previous = old.get("predictor") or {}
    previous_sha = previous.get("encoder", {}).get("sha256")
    if "ablation" in previous and previous_sha != encoder_sha and previous not in earlier:
        earlier.insert(0, previous)
    if measured is not None:
        return measured, earlier
    if "ablation" in previous and previous_sha == encoder_sha:
        return previous, earlier
    return {"status": NOT_RETRAINED}, earlier
