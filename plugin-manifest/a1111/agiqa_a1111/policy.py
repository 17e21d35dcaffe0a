"""What the accordion's settings mean for one image and for one batch: pure functions, no web UI.

The thresholds are the user's, set in the accordion, so they are judged here rather than by the
server's own policy (which the user of the web UI may not control).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional, Sequence

from .client import Score

ASPECTS = ("quality", "correspondence", "authenticity")

MODE_SCORE = "score only"
MODE_DROP = "drop below threshold"
MODE_REORDER = "reorder by score"
MODES = (MODE_SCORE, MODE_DROP, MODE_REORDER)


@dataclass(frozen=True)
class Settings:
    """The accordion's values, in the order `ui()` returns its controls (the API's `args` order)."""

    enabled: bool = False
    url: str = ""
    overall: float = 2.5
    # 0 means "no threshold for this aspect".
    quality: float = 0.0
    correspondence: float = 0.0
    authenticity: float = 0.0
    mode: str = MODE_SCORE
    keep_at_least: int = 1

    @classmethod
    def from_args(cls, args: Sequence) -> "Settings":
        """From the script's args (UI or `alwayson_scripts` API); missing trailing values take the defaults."""
        names = ("enabled", "url", "overall", "quality", "correspondence", "authenticity", "mode", "keep_at_least")
        values = dict(zip(names, args))
        problems = []
        mode = values.get("mode", MODE_SCORE)
        if mode not in MODES:
            problems.append(f"mode must be one of {', '.join(repr(m) for m in MODES)} but received {mode!r}")
        numbers = {}
        for name in ("overall", "quality", "correspondence", "authenticity"):
            raw = values.get(name, getattr(cls, name))
            try:
                number = float(raw if raw is not None else 0.0)
            except (TypeError, ValueError):
                problems.append(f"{name} threshold must be a number from 0 to 5 but received {raw!r}")
                continue
            if not 0.0 <= number <= 5.0:
                problems.append(f"{name} threshold must be a number from 0 to 5 but received {raw!r}")
            numbers[name] = number
        raw_keep = values.get("keep_at_least", 1)
        try:
            keep = int(raw_keep if raw_keep is not None else 0)
            if keep < 0:
                raise ValueError
        except (TypeError, ValueError):
            problems.append(f"keep at least must be a whole number ≥ 0 but received {raw_keep!r}")
            keep = 1
        if problems:
            raise ValueError("AGIQA settings: " + "; ".join(problems))
        return cls(
            enabled=bool(values.get("enabled", False)),
            url=str(values.get("url") or ""),
            mode=mode,
            keep_at_least=keep,
            **numbers,
        )


@dataclass
class Judgement:
    passed: bool
    # "overall 1.53 < 2.50", one per failed threshold.
    failures: List[str] = field(default_factory=list)


def judge(score: Score, settings: Settings) -> Judgement:
    """Every threshold above 0 must be met; an aspect the pack did not judge is skipped, never failed."""
    failures = []
    if settings.overall > 0 and score.mos < settings.overall:
        failures.append(f"overall {score.mos:.2f} < {settings.overall:.2f}")
    for aspect in ASPECTS:
        threshold = getattr(settings, aspect)
        mos = score.aspects.get(aspect)
        if threshold > 0 and mos is not None and mos < threshold:
            failures.append(f"{aspect} {mos:.2f} < {threshold:.2f}")
    return Judgement(passed=not failures, failures=failures)


def plan_batch(scores: Sequence[Optional[Score]], settings: Settings, keep_at_least: Optional[int] = None) -> List[int]:
    """The batch positions to keep, in the order to show them.

    reorder: all images, best MOS first (ties and unscored images keep their order, unscored last).
    drop: images that pass, in their order, topped up with the best failing ones up to keep-at-least;
    an unscored image is never dropped. score only: unchanged.
    """
    positions = list(range(len(scores)))
    if settings.mode == MODE_REORDER:
        scored = sorted((p for p in positions if scores[p] is not None), key=lambda p: -scores[p].mos)
        return scored + [p for p in positions if scores[p] is None]
    if settings.mode != MODE_DROP:
        return positions
    minimum = settings.keep_at_least if keep_at_least is None else keep_at_least
    keep = {p for p in positions if scores[p] is None or judge(scores[p], settings).passed}
    failing = sorted((p for p in positions if p not in keep), key=lambda p: -scores[p].mos)
    for p in failing[: max(0, minimum - len(keep))]:
        keep.add(p)
    return [p for p in positions if p in keep]
