"""The AGIQA nodes. Each scores through the local agiqa server (client.py); ids are stable."""

from __future__ import annotations

import json
import logging
import os
from typing import Any, Dict, List, Optional, Sequence, Tuple

from . import host
from .client import AgiqaClient, AgiqaError
from .scoring import (
    ASPECTS,
    NOT_JUDGED,
    ImageScore,
    Thresholds,
    best_first,
    filter_scores,
    report,
    score_images,
)
from .tensors import batch_size, graph_text_chunks, image_to_pil, png_info, take, take_latent, take_mask

log = logging.getLogger("agiqa")

CATEGORY = "AGIQA"

_PROMPT_INPUT = (
    "STRING",
    {
        "multiline": True,
        "default": "",
        "tooltip": "The prompt the images were made from (type it or connect a text output). "
        "Empty: the server reads it from the workflow's text encoder.",
    },
)
_HIDDEN = {"graph": "PROMPT", "unique_id": "UNIQUE_ID"}
# Filter and Rank select latents and masks in step with the images.
_BATCH_OPTIONAL = {"latent": ("LATENT",), "mask": ("MASK",), "prompt": _PROMPT_INPUT}


def _threshold(default: float, what: str) -> Tuple[str, Dict[str, Any]]:
    return (
        "FLOAT",
        {"default": default, "min": 0.0, "max": 5.0, "step": 0.05, "tooltip": f"{what} MOS (0–5) an image needs; 0 = no threshold"},
    )


def _score(images: Any, prompt: Optional[str], graph: Any, unique_id: Any) -> List[ImageScore]:
    # Stored with the generations like the bridge's lineage, so /v1/generations?promptId= finds them.
    prompt_id, node = host.comfy_ids(unique_id)
    return score_images(images, prompt=prompt, graph=graph, node=node, prompt_id=prompt_id)


def _ui(
    scores: Sequence[ImageScore],
    text: str,
    extra: Optional[Dict[str, List[Any]]] = None,
    overrides: Optional[Dict[int, Dict[str, Any]]] = None,
) -> Dict[str, List[Any]]:
    """The node's `ui`: `agiqa` (one summary per image, what the front end's badge shows) and the report.
    `overrides` replace summary fields per image, e.g. the Filter's own verdict instead of the server's."""
    summaries = [{**score.summary(), **((overrides or {}).get(score.index) or {})} for score in scores]
    ui: Dict[str, List[Any]] = {"agiqa": summaries, "text": [text]}
    if extra:
        ui.update(extra)
    return ui


class _Selection:
    """IMAGE, LATENT and MASK selected with the same indices; an empty or missing part becomes an
    ExecutionBlocker so nodes downstream are skipped instead of crashing on an empty batch."""

    def __init__(self, images: Any, latent: Optional[Dict[str, Any]], mask: Any) -> None:
        self.images = images
        self.latent = latent
        self.mask = mask
        self.count = batch_size(images)
        # Check the batches line up before any scoring is spent on them.
        if latent is not None:
            take_latent(latent, [], self.count)
        if mask is not None:
            take_mask(mask, [], self.count)

    def select(self, indices: Sequence[int], node: str, branch: str) -> Tuple[Any, Any, Any]:
        if not indices:
            empty = host.execution_blocker(None)
            return empty, empty, empty
        images = take(self.images, indices)
        latent = (
            take_latent(self.latent, indices, self.count)
            if self.latent is not None
            else host.execution_blocker(f"{node}: {branch} LATENT is used but no latent is connected to the node")
        )
        mask = (
            take_mask(self.mask, indices, self.count)
            if self.mask is not None
            else host.execution_blocker(f"{node}: {branch} MASK is used but no mask is connected to the node")
        )
        return images, latent, mask


class AGIQAScore:
    """Scores an IMAGE batch: MOS and one FLOAT per aspect (mean over the batch), and a report."""

    DESCRIPTION = (
        "Scores images with the local agiqa server (MOS 0–5 per aspect). For a batch the FLOATs are the "
        f"mean over the batch; an aspect the pack does not judge is {NOT_JUDGED:g}."
    )
    CATEGORY = CATEGORY
    FUNCTION = "score"
    OUTPUT_NODE = True
    RETURN_TYPES = ("FLOAT", "FLOAT", "FLOAT", "FLOAT", "STRING")
    RETURN_NAMES = ("mos", "quality", "correspondence", "authenticity", "report")

    @classmethod
    def INPUT_TYPES(cls) -> Dict[str, Any]:
        return {"required": {"images": ("IMAGE",)}, "optional": {"prompt": _PROMPT_INPUT}, "hidden": dict(_HIDDEN)}

    def score(self, images: Any, prompt: str = "", graph: Any = None, unique_id: Any = None) -> Dict[str, Any]:
        scores = _score(images, prompt, graph, unique_id)
        mos = _mean([score.mos for score in scores])
        aspects = [_mean_aspect(scores, name) for name in ASPECTS]
        heading = None if len(scores) < 2 else f"{len(scores)} images, mean MOS {mos:.2f}"
        text = report(scores, heading)
        return {"ui": _ui(scores, text), "result": (mos, *aspects, text)}


class AGIQAFilter:
    """Splits a batch into passing and rejected images (latents and masks follow)."""

    DESCRIPTION = (
        "Keeps the images that meet the thresholds (batch order kept; latents and masks follow). "
        "'keep at least' promotes the best rejected images so the graph always has something to work on."
    )
    CATEGORY = CATEGORY
    FUNCTION = "filter"
    RETURN_TYPES = ("IMAGE", "LATENT", "MASK", "IMAGE", "LATENT", "MASK", "STRING", "STRING")
    RETURN_NAMES = (
        "passing_images",
        "passing_latent",
        "passing_mask",
        "rejected_images",
        "rejected_latent",
        "rejected_mask",
        "passing_indices",
        "report",
    )
    IF_NONE_PASS = ("skip what follows", "stop the run")

    @classmethod
    def INPUT_TYPES(cls) -> Dict[str, Any]:
        return {
            "required": {
                "images": ("IMAGE",),
                "overall_threshold": _threshold(2.5, "Overall"),
                "quality_threshold": _threshold(0.0, "Quality"),
                "correspondence_threshold": _threshold(0.0, "Prompt correspondence"),
                "authenticity_threshold": _threshold(0.0, "Authenticity"),
                "keep_at_least": (
                    "INT",
                    {"default": 1, "min": 0, "max": 4096, "tooltip": "The best N images pass even below the thresholds; 0 = none"},
                ),
                "if_none_pass": (
                    list(cls.IF_NONE_PASS),
                    {
                        "default": cls.IF_NONE_PASS[0],
                        "tooltip": "When nothing passes (only with keep_at_least 0): skip the nodes fed by the passing "
                        "outputs, or stop the whole run quietly",
                    },
                ),
            },
            "optional": dict(_BATCH_OPTIONAL),
            "hidden": dict(_HIDDEN),
        }

    def filter(
        self,
        images: Any,
        overall_threshold: float = 2.5,
        quality_threshold: float = 0.0,
        correspondence_threshold: float = 0.0,
        authenticity_threshold: float = 0.0,
        keep_at_least: int = 1,
        if_none_pass: str = IF_NONE_PASS[0],
        latent: Optional[Dict[str, Any]] = None,
        mask: Any = None,
        prompt: str = "",
        graph: Any = None,
        unique_id: Any = None,
    ) -> Dict[str, Any]:
        if if_none_pass not in self.IF_NONE_PASS:
            raise ValueError(f"AGIQA Filter: if_none_pass must be one of {', '.join(self.IF_NONE_PASS)}")
        selection = _Selection(images, latent, mask)
        scores = _score(images, prompt, graph, unique_id)
        thresholds = Thresholds(overall_threshold, quality_threshold, correspondence_threshold, authenticity_threshold)
        outcome = filter_scores(scores, thresholds, keep_at_least)
        lines = [f"{len(outcome.passing)} of {len(scores)} pass: {_indices(outcome.passing) or 'none'}"]
        for index in outcome.kept_below:
            lines.append(f"#{index} kept to keep at least {keep_at_least} ({'; '.join(outcome.why[index])})")
        for index in outcome.rejected:
            lines.append(f"#{index} rejected: {'; '.join(outcome.why[index])}")
        for name in outcome.skipped_aspects:
            lines.append(f"{name} threshold skipped: the pack does not judge {name}")
        text = report(scores, "\n".join(lines))
        # The badge shows this node's decision, not the server policy's.
        decisions = {
            index: {"verdict": "accept" if index in outcome.passing else "reject", "reasons": outcome.why[index]}
            for index in outcome.why
        }
        ui = _ui(scores, text, {"agiqa_passing": list(outcome.passing)}, decisions)
        if not outcome.passing and scores and if_none_pass == "stop the run":
            host.interrupt_quietly(f"AGIQA Filter: no image met the thresholds\n{text}")
        passing = selection.select(outcome.passing, "AGIQA Filter", "passing")
        rejected = selection.select(outcome.rejected, "AGIQA Filter", "rejected")
        return {"ui": ui, "result": (*passing, *rejected, _indices(outcome.passing), text)}


class AGIQARank:
    """The best `top_k` images, best first, with latents and masks reordered the same way."""

    DESCRIPTION = "Orders a batch by MOS (best first) and keeps the top k; latents and masks are reordered with the images."
    CATEGORY = CATEGORY
    FUNCTION = "rank"
    RETURN_TYPES = ("IMAGE", "LATENT", "MASK", "STRING", "STRING")
    RETURN_NAMES = ("images", "latent", "mask", "indices", "report")

    @classmethod
    def INPUT_TYPES(cls) -> Dict[str, Any]:
        return {
            "required": {
                "images": ("IMAGE",),
                "top_k": ("INT", {"default": 1, "min": 1, "max": 4096, "tooltip": "How many of the best images to keep"}),
            },
            "optional": dict(_BATCH_OPTIONAL),
            "hidden": dict(_HIDDEN),
        }

    def rank(
        self,
        images: Any,
        top_k: int = 1,
        latent: Optional[Dict[str, Any]] = None,
        mask: Any = None,
        prompt: str = "",
        graph: Any = None,
        unique_id: Any = None,
    ) -> Dict[str, Any]:
        selection = _Selection(images, latent, mask)
        scores = _score(images, prompt, graph, unique_id)
        order = [scores[position].index for position in best_first(scores)]
        top = order[: max(1, int(top_k))]
        heading = f"top {len(top)} of {len(scores)}, best first: {_indices(top) or 'none'}"
        text = report(scores, heading)
        chosen = selection.select(top, "AGIQA Rank", "ranked")
        ranks = {index: {"rank": position + 1} for position, index in enumerate(order)}
        return {"ui": _ui(scores, text, {"agiqa_order": order}, ranks), "result": (*chosen, _indices(top), text)}


class AGIQASaveWithScore:
    """Saves like SaveImage (ComfyUI's prompt/workflow kept) and adds the scores to each PNG."""

    DESCRIPTION = (
        "Saves images to ComfyUI's output folder with ComfyUI's metadata plus an `agiqa` text chunk "
        "(JSON scores) and `agiqa_mos`. [score] and [level] in the prefix become the image's MOS and level."
    )
    CATEGORY = CATEGORY
    FUNCTION = "save"
    OUTPUT_NODE = True
    RETURN_TYPES = ("FLOAT", "STRING")
    RETURN_NAMES = ("mos", "report")
    COMPRESS_LEVEL = 4  # SaveImage's

    @classmethod
    def INPUT_TYPES(cls) -> Dict[str, Any]:
        return {
            "required": {
                "images": ("IMAGE",),
                "filename_prefix": (
                    "STRING",
                    {
                        "default": "ComfyUI_[score]",
                        "tooltip": "Like SaveImage's prefix (%date:…% etc. work); [score] becomes the MOS (e.g. 3.81), [level] the level",
                    },
                ),
            },
            "optional": {"prompt": _PROMPT_INPUT},
            "hidden": {**_HIDDEN, "extra_pnginfo": "EXTRA_PNGINFO"},
        }

    def save(
        self,
        images: Any,
        filename_prefix: str = "ComfyUI_[score]",
        prompt: str = "",
        graph: Any = None,
        unique_id: Any = None,
        extra_pnginfo: Any = None,
    ) -> Dict[str, Any]:
        folder_paths = host.folder_paths()
        output_dir = folder_paths.get_output_directory()
        scores = _score(images, prompt, graph, unique_id)
        comfy_chunks = {} if host.metadata_disabled() else graph_text_chunks(graph, extra_pnginfo)
        per_image_prefix = "[score]" in filename_prefix or "[level]" in filename_prefix
        saved: List[Dict[str, str]] = []
        counter = 0
        folder = filename = subfolder = ""
        for position, score in enumerate(scores):
            image = images[score.index]
            pil = image_to_pil(image)
            if position == 0 or per_image_prefix:
                prefix = filename_prefix.replace("[score]", f"{score.mos:.2f}").replace("[level]", score.level)
                folder, filename, counter, subfolder, _ = folder_paths.get_save_image_path(prefix, output_dir, pil.width, pil.height)
            name = f"{filename.replace('%batch_num%', str(score.index))}_{counter:05}_.png"
            chunks = png_info({**comfy_chunks, **score_chunks(score)})
            pil.save(os.path.join(folder, name), pnginfo=chunks, compress_level=self.COMPRESS_LEVEL)
            saved.append({"filename": name, "subfolder": subfolder, "type": "output"})
            counter += 1
        _link_files(scores, saved)
        mos = _mean([score.mos for score in scores])
        text = report(scores, f"saved {len(saved)} image(s)" + (f": {saved[0]['filename']} …" if saved else ""))
        return {"ui": _ui(scores, text, {"images": saved}), "result": (mos, text)}


def _link_files(scores: Sequence[ImageScore], saved: Sequence[Dict[str, str]]) -> None:
    """Tells the server which file each scored image was saved as (its history then shows it). Best
    effort: the files are written, a server that cannot be told is worth a log line, not a failed node."""
    client = AgiqaClient()
    for score, file in zip(scores, saved):
        if score.generation_id is None:
            continue
        try:
            client.link_file(score.generation_id, file["filename"], "/".join(part for part in (file["subfolder"], file["filename"]) if part))
        except AgiqaError as error:
            log.warning("agiqa: the saved file %s could not be linked to its generation: %s", file["filename"], error)
            return


def score_chunks(score: ImageScore) -> Dict[str, str]:
    """The text chunks Save with score adds: `agiqa` (JSON) for tools, `agiqa_mos` for people."""
    return {"agiqa": json.dumps(score.summary()), "agiqa_mos": f"{score.mos:.2f}"}


def _mean(values: Sequence[float]) -> float:
    return float(sum(values) / len(values)) if values else NOT_JUDGED


def _mean_aspect(scores: Sequence[ImageScore], name: str) -> float:
    return _mean([value for value in (score.aspects.get(name) for score in scores) if value is not None])


def _indices(indices: Sequence[int]) -> str:
    return ",".join(str(index) for index in indices)


NODE_CLASS_MAPPINGS = {
    "AGIQAScore": AGIQAScore,
    "AGIQAFilter": AGIQAFilter,
    "AGIQARank": AGIQARank,
    "AGIQASaveWithScore": AGIQASaveWithScore,
}

NODE_DISPLAY_NAME_MAPPINGS = {
    "AGIQAScore": "AGIQA Score",
    "AGIQAFilter": "AGIQA Filter by score",
    "AGIQARank": "AGIQA Rank (top-k)",
    "AGIQASaveWithScore": "AGIQA Save image with score",
}
