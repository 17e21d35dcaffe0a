"""Per-image scores in the web UI's infotext (the PNG `parameters` text and the text under the gallery).

`p.extra_generation_params` is shared by every image of a run, but A1111 ≥ 1.9 and Forge call a
callable value with `create_infotext`'s locals for each image. Each AGIQA field is such a callable:
it finds the image the infotext is for by its prompt, seed and variation seed (what A1111 itself
pairs with each image, and what `postprocess_batch_list` keeps aligned), so an image's text names
its own score, the grid's text names none, and everything else in the infotext stays as it was.
"""

from __future__ import annotations

from typing import Dict, Optional, Tuple

from .client import Score
from .policy import ASPECTS, Judgement

FIELD_MOS = "AGIQA MOS"
FIELD_LEVEL = "AGIQA level"
FIELD_VERDICT = "AGIQA verdict"
FIELD_PACK = "AGIQA pack"
FIELD_ASPECT = {aspect: f"AGIQA {aspect}" for aspect in ASPECTS}
FIELDS = (FIELD_MOS, FIELD_LEVEL, *FIELD_ASPECT.values(), FIELD_VERDICT, FIELD_PACK)

ImageKey = Tuple[str, object, object]


def image_key(prompt: str, seed: object, subseed: object) -> ImageKey:
    return (prompt, seed, subseed)


def fields_for(score: Score, judgement: Judgement) -> Dict[str, str]:
    """The infotext fields of one scored image; aspects the pack did not judge are left out."""
    fields = {FIELD_MOS: f"{score.mos:.2f}", FIELD_LEVEL: score.level}
    for aspect in ASPECTS:
        mos = score.aspects.get(aspect)
        if mos is not None:
            fields[FIELD_ASPECT[aspect]] = f"{mos:.2f}"
    fields[FIELD_VERDICT] = "pass" if judgement.passed else "below threshold (" + "; ".join(judgement.failures) + ")"
    fields[FIELD_PACK] = score.pack
    return fields


class ScoreBook:
    """The fields of every image scored in one run, by image key."""

    def __init__(self) -> None:
        self._fields: Dict[ImageKey, Dict[str, str]] = {}

    def record(self, key: ImageKey, fields: Dict[str, str]) -> None:
        self._fields[key] = fields

    def lookup(self, key: ImageKey) -> Optional[Dict[str, str]]:
        return self._fields.get(key)


class PerImageField:
    """One `extra_generation_params` value: called by `create_infotext(**locals())` for each infotext."""

    def __init__(self, book: ScoreBook, field: str) -> None:
        self.book = book
        self.field = field

    def __call__(self, **context) -> Optional[str]:
        if context.get("use_main_prompt"):  # the grid's or the run's text, not one image's
            return None
        try:
            index = context["index"]
            key = image_key(context["all_prompts"][index], context["all_seeds"][index], _subseed(context, index))
        except (KeyError, IndexError, TypeError):
            return None
        fields = self.book.lookup(key)
        return None if fields is None else fields.get(self.field)

    def __repr__(self) -> str:  # shown if something prints the params dict
        return f"<AGIQA per-image field {self.field!r}>"


def _subseed(context: dict, index: int) -> object:
    subseeds = context.get("all_subseeds")
    return subseeds[index] if subseeds is not None and index < len(subseeds) else None
