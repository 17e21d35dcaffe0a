"""Scores for a ComfyUI IMAGE batch: one /v1/rank call per batch of raw 8-bit frames (no PNG), the
answers as plain objects, and the node-side rules (thresholds, keep-at-least, top-k) that decide what
passes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

from .client import AgiqaClient
from .tensors import Frames, batch_size, graph_text_chunks

ASPECTS = ("quality", "correspondence", "authenticity")
# The FLOAT an aspect gets when the pack did not judge it (the lite pack judges quality only).
NOT_JUDGED = -1.0


@dataclass
class ImageScore:
    index: int
    mos: float
    level: str
    aspects: Dict[str, Optional[float]]
    not_judged_reasons: Dict[str, str]
    findings: List[str]
    server_verdict: str
    server_reasons: List[str]
    generation_id: Optional[int]
    pack: str
    prompt: Optional[str]

    @classmethod
    def from_rank_item(cls, item: Dict[str, Any]) -> "ImageScore":
        result = item["result"]
        aspects: Dict[str, Optional[float]] = {}
        not_judged: Dict[str, str] = {}
        for name in ASPECTS:
            aspect = (result.get("aspects") or {}).get(name) or {}
            value = aspect.get("mos")
            aspects[name] = None if value is None else float(value)
            if value is None:
                not_judged[name] = str(aspect.get("reason") or "not judged by this pack")
        verdict = item.get("verdict") or {}
        pack = result.get("pack") or {}
        return cls(
            index=int(item["index"]),
            mos=float(result["mos"]),
            level=str(result.get("level", "")),
            aspects=aspects,
            not_judged_reasons=not_judged,
            findings=[str(finding.get("text")) for finding in result.get("findings") or [] if finding.get("text")],
            server_verdict=str(verdict.get("verdict", "")),
            server_reasons=[str(reason.get("text")) for reason in verdict.get("reasons") or []],
            generation_id=item.get("generationId"),
            pack=f"{pack.get('name', '?')}@{pack.get('version', '?')}",
            prompt=(result.get("prompt") or {}).get("text"),
        )

    def summary(self) -> Dict[str, Any]:
        """What the node shows in the UI and writes into PNGs: small and JSON-safe."""
        return {
            "index": self.index,
            "mos": round(self.mos, 3),
            "level": self.level,
            "aspects": {name: None if value is None else round(value, 3) for name, value in self.aspects.items()},
            "verdict": self.server_verdict,
            "reasons": self.server_reasons,
            "findings": self.findings,
            "pack": self.pack,
            "generation_id": self.generation_id,
        }


def score_images(
    images: Any,
    prompt: Optional[str] = None,
    graph: Any = None,
    node: Optional[str] = None,
    client: Optional[AgiqaClient] = None,
    prompt_id: Optional[str] = None,
) -> List[ImageScore]:
    """Scores every image of an IMAGE batch as one batch; results in batch order.

    The tensors go as raw 8-bit frames (SaveImage's quantization, no PNG encode here, no decode in the
    server), each converted as the request body reaches it, so the server reads one while the next is made. Without a prompt text, the API graph (hidden PROMPT input) travels beside them as the
    `prompt` text a saved PNG would carry, so the server recovers the prompt from the sampler's text
    encoder the way it does for saved files. `prompt_id` and `node` (ComfyUI's ids) are stored with
    every generation of the batch.
    """
    if batch_size(images) == 0:
        return []
    text = (prompt or "").strip() or None
    chunks = graph_text_chunks(graph, None) if text is None and graph is not None else None
    client = client or AgiqaClient()
    frames = Frames(images)  # a bad shape fails here, before anything is sent
    limit = client.batch_limit()  # a server that is not running fails here, before any image is converted
    items = client.rank_frames(frames, prompt=text, text=chunks or None, node=node, limit=limit, prompt_id=prompt_id)
    return [ImageScore.from_rank_item(item) for item in items]


def best_first(scores: Sequence[ImageScore]) -> List[int]:
    """Batch indices, best MOS first; ties keep batch order (the server's rule)."""
    return sorted(range(len(scores)), key=lambda position: (-scores[position].mos, position))


@dataclass
class Thresholds:
    overall: float = 0.0
    quality: float = 0.0
    correspondence: float = 0.0
    authenticity: float = 0.0

    def failures(self, score: ImageScore) -> List[str]:
        """Why `score` misses the thresholds (0 disables one); unjudged aspects are skipped, never failed."""
        missed: List[str] = []
        if self.overall > 0 and score.mos < self.overall:
            missed.append(f"overall {score.mos:.2f} < {self.overall:.2f}")
        for name in ASPECTS:
            threshold = getattr(self, name)
            value = score.aspects.get(name)
            if threshold > 0 and value is not None and value < threshold:
                missed.append(f"{name} {value:.2f} < {threshold:.2f}")
        return missed

    def skipped(self, score: ImageScore) -> List[str]:
        return [name for name in ASPECTS if getattr(self, name) > 0 and score.aspects.get(name) is None]


@dataclass
class FilterOutcome:
    passing: List[int]
    rejected: List[int]
    kept_below: List[int] = field(default_factory=list)
    why: Dict[int, List[str]] = field(default_factory=dict)
    skipped_aspects: List[str] = field(default_factory=list)


def filter_scores(scores: Sequence[ImageScore], thresholds: Thresholds, keep_at_least: int) -> FilterOutcome:
    """Thresholds, then a floor: the best rejected images are kept until `keep_at_least` pass.
    Both lists keep batch order, so a filtered batch still lines up with its seeds."""
    why = {score.index: thresholds.failures(score) for score in scores}
    passing = {score.index for score in scores if not why[score.index]}
    kept: List[int] = []
    floor = min(max(0, keep_at_least), len(scores))
    for position in best_first(scores):
        if len(passing) >= floor:
            break
        index = scores[position].index
        if index not in passing:
            passing.add(index)
            kept.append(index)
    skipped = sorted({name for score in scores for name in thresholds.skipped(score)})
    ordered = [score.index for score in scores]
    return FilterOutcome(
        passing=[index for index in ordered if index in passing],
        rejected=[index for index in ordered if index not in passing],
        kept_below=kept,
        why=why,
        skipped_aspects=skipped,
    )


def format_aspect(value: Optional[float]) -> str:
    return "not judged" if value is None else f"{value:.2f}"


def report(scores: Sequence[ImageScore], heading: Optional[str] = None) -> str:
    """A human-readable report: one block per image with its scores and findings."""
    lines: List[str] = []
    if heading:
        lines.append(heading)
    if not scores:
        lines.append("no images")
        return "\n".join(lines)
    for score in scores:
        aspects = ", ".join(f"{name} {format_aspect(score.aspects[name])}" for name in ASPECTS)
        lines.append(f"#{score.index}: MOS {score.mos:.2f} ({score.level}) — {aspects}")
        if score.server_verdict:
            lines.append(f"  server policy: {score.server_verdict} ({'; '.join(score.server_reasons)})")
        for finding in score.findings:
            lines.append(f"  - {finding}")
    judged = scores[0]
    for name, reason in judged.not_judged_reasons.items():
        lines.append(f"{name} = {NOT_JUDGED:g} on the output: {reason}")
    lines.append(f"pack {judged.pack}" + (f", prompt: {judged.prompt}" if judged.prompt else ", no prompt"))
    return "\n".join(lines)

