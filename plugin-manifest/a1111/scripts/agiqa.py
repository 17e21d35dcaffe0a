"""AGIQA: an always-visible accordion in txt2img and img2img that scores every generated image with a
local `agiqa serve` (m3-agiqa), writes the scores into each image's infotext and can drop images
below a threshold or reorder a batch best first. The work is done in the `agiqa_a1111` package beside
this folder; this file only connects it to the web UI's script hooks.
"""

import functools
import inspect
import logging
import os
import sys

from modules import scripts

try:
    import agiqa_a1111
except ImportError:  # the web UI puts the extension's folder on sys.path while it loads this file
    sys.path.insert(0, scripts.basedir() or os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    import agiqa_a1111

from agiqa_a1111 import MODES, AgiqaClient, ScoringRun, Settings, default_url

log = logging.getLogger("agiqa")


@functools.lru_cache(maxsize=None)  # the web UI's code does not change while it runs; read it once
def _per_image_infotext_supported() -> bool:
    """A1111 ≥ 1.9 and Forge call callable `extra_generation_params` values per image; older versions
    would print the object itself, so there the scores go to the comments under the gallery only."""
    try:
        from modules import processing

        return "callable(" in inspect.getsource(processing.create_infotext)
    except Exception:  # source not readable (frozen build): assume a current web UI
        return True


class AgiqaScript(scripts.Script):
    def title(self):
        return "AGIQA"

    def show(self, is_img2img):
        return scripts.AlwaysVisible

    def ui(self, is_img2img):
        import gradio as gr  # only the UI needs gradio; the hooks below run without it

        # The controls start at the defaults an API call that leaves the args out gets.
        defaults = Settings()
        with gr.Accordion("AGIQA image scoring", open=False):
            with gr.Row():
                enabled = gr.Checkbox(label="Score images with agiqa", value=defaults.enabled, elem_id=self.elem_id("enabled"))
                url = gr.Textbox(label="Server URL (start it with `npx agiqa serve`)", value=default_url(), elem_id=self.elem_id("url"))
            with gr.Row():
                overall = gr.Slider(0.0, 5.0, value=defaults.overall, step=0.05, label="Overall MOS threshold", elem_id=self.elem_id("overall"))
                quality = gr.Slider(0.0, 5.0, value=defaults.quality, step=0.05, label="Quality threshold (0 = off)", elem_id=self.elem_id("quality"))
                correspondence = gr.Slider(0.0, 5.0, value=defaults.correspondence, step=0.05, label="Correspondence threshold (0 = off)", elem_id=self.elem_id("correspondence"))
                authenticity = gr.Slider(0.0, 5.0, value=defaults.authenticity, step=0.05, label="Authenticity threshold (0 = off)", elem_id=self.elem_id("authenticity"))
            with gr.Row():
                mode = gr.Radio(choices=list(MODES), value=defaults.mode, label="Mode", elem_id=self.elem_id("mode"))
                keep_at_least = gr.Slider(0, 16, value=defaults.keep_at_least, step=1, label="Keep at least N images per batch", elem_id=self.elem_id("keep_at_least"))
        # This order is the `args` order of `alwayson_scripts: {"agiqa": {"args": [...]}}` in the API.
        return [enabled, url, overall, quality, correspondence, authenticity, mode, keep_at_least]

    def process(self, p, *args):
        setattr(p, ScoringRun.ATTRIBUTE, None)
        try:
            settings = Settings.from_args(args)
        except ValueError as error:
            log.warning("%s; this run is not scored", error)
            return
        if not settings.enabled:
            return
        run = ScoringRun(settings, AgiqaClient(settings.url))
        run.install_fields(p, _per_image_infotext_supported())
        setattr(p, ScoringRun.ATTRIBUTE, run)

    def postprocess_batch_list(self, p, pp, *args, **kwargs):
        run = getattr(p, ScoringRun.ATTRIBUTE, None)
        if run is not None:
            run.on_batch_list(p, pp, kwargs.get("batch_number", getattr(p, "iteration", 0)))

    def postprocess_image(self, p, pp, *args):
        run = getattr(p, ScoringRun.ATTRIBUTE, None)
        if run is not None:
            run.on_image(p, pp)

    def postprocess(self, p, processed, *args):
        run = getattr(p, ScoringRun.ATTRIBUTE, None)
        if run is not None:
            run.on_finished(p, processed)
