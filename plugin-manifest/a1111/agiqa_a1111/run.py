"""One generation run (one `process_images` call) as the extension sees it: score, reorder or drop,
record scores for the infotext, and tidy up `Processed` at the end.

The hooks come in this order in A1111/Forge, per batch: `postprocess_batch_list` (decoded samples, may
change the batch) then `postprocess_image` for each image that is left, then `postprocess` once. So the
whole batch is scored in `postprocess_batch_list`, several requests at a time (the server scores them
in parallel), which is what reordering and dropping need; the image's own score is then taken in
`postprocess_image` from the final picture: an unchanged picture (same pixels, same prompts) is found
already scored without being encoded again, one changed by face restoration is scored again.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List, Optional, Sequence, Tuple

from .client import AgiqaClient, Score, ScoringError, ServerRefused, ServerUnavailable
from .images import raw_frame, to_pil
from .infotext import FIELDS, PerImageField, ScoreBook, fields_for, image_key
from .policy import MODE_SCORE, Settings, judge, plan_batch

log = logging.getLogger("agiqa")

# The per-image lists of `p` that A1111 pairs with each image of a batch by position.
BATCH_LISTS = ("prompts", "negative_prompts", "seeds", "subseeds", "hr_prompts", "hr_negative_prompts")
# Their whole-run counterparts, which `Processed` (and the API's `info`) pair with the output images.
RUN_LISTS = ("all_prompts", "all_negative_prompts", "all_seeds", "all_subseeds", "all_hr_prompts", "all_hr_negative_prompts")
PROCESSED_LISTS = ("all_prompts", "all_negative_prompts", "all_seeds", "all_subseeds")
# Requests in flight while a batch is scored: enough to keep the server's workers busy.
BATCH_CONCURRENCY = 4

# Extra-network tags (`<lora:name:0.8>`) are removed by the web UI before the model reads the prompt.
_EXTRA_NETWORK = re.compile(r"<\w+:[^>]+>")


def prompt_as_the_model_read_it(prompt: str) -> str:
    return " ".join(_EXTRA_NETWORK.sub(" ", prompt or "").split())


class ScoringRun:
    """State of one run; lives on `p` so that concurrent tabs and copied `p`s never share it."""

    ATTRIBUTE = "agiqa_run"

    def __init__(self, settings: Settings, client: AgiqaClient) -> None:
        self.settings = settings
        self.client = client
        self.book = ScoreBook()
        self._by_picture: Dict[str, Score] = {}
        self.unavailable: Optional[str] = None
        self._refusals_logged: set = set()
        self._lock = threading.Lock()  # batch scoring runs in threads
        # batch number -> positions kept from the batch as generated, in their new order
        self.batch_plans: Dict[int, List[int]] = {}
        self.kept_so_far = 0
        self.dropped = 0
        self.reordered = 0
        self.scored: List[Score] = []
        self.unscored = 0
        self.passed = 0

    # -- hooks --------------------------------------------------------------------------------

    def install_fields(self, p, per_image_supported: bool) -> None:
        """Adds the AGIQA fields to `p.extra_generation_params`, next to what is already there."""
        if not per_image_supported:
            return
        if p.extra_generation_params is None:
            p.extra_generation_params = {}
        for field in FIELDS:
            p.extra_generation_params[field] = PerImageField(self.book, field)

    def on_batch_list(self, p, pp, batch_number: int) -> None:
        count = len(pp.images)
        prompts, negatives = list(p.prompts or []), list(p.negative_prompts or [])
        if count == 0 or len(prompts) != count:
            if count and self.settings.mode != MODE_SCORE:
                log.warning(
                    "AGIQA: batch %d has %d images but %d prompts (another extension changed the batch); "
                    "it is scored but not reordered or filtered", batch_number, count, len(prompts))
            self.kept_so_far += count
            return
        scores = self.score_batch([(to_pil(sample), prompts[i], negatives[i] if i < len(negatives) else "") for i, sample in enumerate(pp.images)])
        if self.settings.mode == MODE_SCORE:
            self.kept_so_far += count
            return
        minimum = self.settings.keep_at_least
        if self._is_last_batch(p, batch_number) and self.kept_so_far == 0:
            minimum = max(minimum, 1)  # a run with no image at all breaks the web UI (it reads the first infotext)
        plan = plan_batch(scores, self.settings, minimum)
        self.kept_so_far += len(plan)
        if plan == list(range(count)):
            return
        self.batch_plans[batch_number] = plan
        self.dropped += count - len(plan)
        if len(plan) == count:
            self.reordered += 1
        pp.images = [pp.images[k] for k in plan]
        for name in BATCH_LISTS:
            values = getattr(p, name, None)
            if isinstance(values, list) and len(values) == count:
                setattr(p, name, [values[k] for k in plan])

    def on_image(self, p, pp) -> None:
        i = getattr(p, "batch_index", 0) or 0
        prompt = _at(p.prompts, i, p.prompt if isinstance(p.prompt, str) else "")
        negative = _at(p.negative_prompts, i, "")
        score = self.score(pp.image, prompt, negative)
        if score is None:
            self.unscored += 1
            return
        judgement = judge(score, self.settings)
        self.scored.append(score)
        self.passed += judgement.passed
        self.book.record(image_key(prompt, _at(p.seeds, i, None), _at(p.subseeds, i, None)), fields_for(score, judgement))

    def on_finished(self, p, processed) -> None:
        if self.batch_plans:
            self._realign_run_lists(p, processed)
        summary = self.summary()
        if summary and processed is not None:
            processed.comments = (processed.comments or "") + summary + "\n"

    # -- scoring ------------------------------------------------------------------------------

    def score_batch(self, items: Sequence[Tuple[object, str, str]]) -> List[Optional[Score]]:
        """Scores (image, prompt, negative prompt) items, a few at a time, in their order."""
        if len(items) <= 1:
            return [self.score(*item) for item in items]
        with ThreadPoolExecutor(max_workers=min(BATCH_CONCURRENCY, len(items)), thread_name_prefix="agiqa") as pool:
            return list(pool.map(lambda item: self.score(*item), items))

    def score(self, image, prompt: str, negative: str) -> Optional[Score]:
        """The image's score, or None (logged once) when it cannot be had: the run goes on regardless."""
        if self.unavailable is not None:
            return None
        prompt, negative = prompt_as_the_model_read_it(prompt), prompt_as_the_model_read_it(negative)
        picture = _picture_key(image, prompt, negative)
        with self._lock:
            if picture in self._by_picture:
                return self._by_picture[picture]
        try:
            score = self.client.score_frame(raw_frame(image), prompt, negative)
        except ServerUnavailable as error:
            with self._lock:
                if self.unavailable is None:  # requests in flight together fail together: say it once
                    self.unavailable = str(error)
                    log.warning("%s", error)
            return None
        except ServerRefused as error:
            with self._lock:
                if error.code not in self._refusals_logged:
                    self._refusals_logged.add(error.code)
                    log.warning("%s", error)
            return None
        except ScoringError as error:
            log.warning("%s", error)
            return None
        with self._lock:
            self._by_picture[picture] = score
        return score

    # -- results ------------------------------------------------------------------------------

    def summary(self) -> str:
        """One line under the gallery: what was scored, passed, dropped; or why nothing was."""
        if self.unavailable is not None:
            return self.unavailable
        if not self.scored:
            return "AGIQA: no image could be scored (see the console)" if self.unscored else ""
        mos = ", ".join(f"{s.mos:.2f}" for s in self.scored)
        parts = [f"AGIQA ({self.scored[0].pack}): {len(self.scored)} scored, MOS {mos}; {self.passed} pass the thresholds"]
        if self.dropped:
            parts.append(f"{self.dropped} below threshold dropped")
        if self.reordered:
            parts.append("best first")
        if self.unscored:
            parts.append(f"{self.unscored} unscored")
        return "; ".join(parts)

    def _is_last_batch(self, p, batch_number: int) -> bool:
        return batch_number >= int(getattr(p, "n_iter", 1) or 1) - 1

    def _realign_run_lists(self, p, processed) -> None:
        """Makes the whole-run lists name the images actually returned, in their order.

        Done only now: while the run goes on, the web UI slices them by batch number for later batches.
        """
        batch_size = int(getattr(p, "batch_size", 1) or 1)
        total = len(getattr(p, "all_prompts", None) or [])
        if total == 0:
            return
        keep: List[int] = []
        for batch in range((total + batch_size - 1) // batch_size):
            start = batch * batch_size
            plan = self.batch_plans.get(batch)
            keep.extend(range(start, min(start + batch_size, total)) if plan is None else (start + k for k in plan))
        originals = {name: getattr(p, name, None) for name in RUN_LISTS}
        for name, values in originals.items():
            if isinstance(values, list) and len(values) == total:
                setattr(p, name, [values[k] for k in keep])
        if processed is None:
            return
        for name in PROCESSED_LISTS:
            values = getattr(processed, name, None)  # still the lists as generated (often the same objects)
            if isinstance(values, list) and len(values) == total:
                setattr(processed, name, [values[k] for k in keep])
        if processed.all_seeds:
            processed.seed = processed.all_seeds[0]
        if processed.all_subseeds:
            processed.subseed = processed.all_subseeds[0]


def _picture_key(image, prompt: str, negative: str) -> str:
    """Identifies a PIL image's pixels with its prompts, without encoding it (PNG is the slow part)."""
    digest = hashlib.sha256(f"{image.mode} {image.size[0]}x{image.size[1]}\0".encode("ascii"))
    digest.update(image.tobytes())
    digest.update(b"\0" + prompt.encode("utf-8") + b"\0" + negative.encode("utf-8"))
    return digest.hexdigest()


def _at(values, index: int, default):
    try:
        return values[index]
    except (IndexError, TypeError, KeyError):
        return default
