"""Shared set-up of the extension's tests: paths, the stand-in web UI, pictures, one generation run."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Dict, List, Optional

import numpy as np
from PIL import Image

TESTS_DIR = Path(__file__).resolve().parent
EXTENSION_DIR = TESTS_DIR.parent
REPO_ROOT = EXTENSION_DIR.parents[1]
EXAMPLES = REPO_ROOT / "examples"

# The extension's folder too: the unit tests import its package directly (the web UI's own loading is
# tested separately, in a clean interpreter).
for path in (EXTENSION_DIR, TESTS_DIR / "standins", REPO_ROOT / "plugin-manifest" / "testing"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from modules import images, processing, scripts, shared  # noqa: E402  (the stand-ins)


def picture(name: str) -> Image.Image:
    with Image.open(EXAMPLES / name) as image:
        return image.convert("RGB")


def load_script_class():
    """The extension's script class, loaded from its folder the way the web UI loads extensions."""
    classes = scripts.load_script_classes(str(EXTENSION_DIR))
    assert len(classes) == 1, classes
    return classes[0]


def settings_args(enabled=True, url="", overall=2.5, quality=0.0, correspondence=0.0, authenticity=0.0, mode="score only", keep_at_least=1) -> list:
    return [enabled, url, overall, quality, correspondence, authenticity, mode, keep_at_least]


class Generation:
    """One txt2img run through the stand-in web UI with the extension enabled."""

    def __init__(self, pictures_by_seed: Dict[int, str], args: list, prompt="an espresso, studio light", negative_prompt="blurry", batch_size=2, n_iter=1, seed=100, extra_generation_params=None, restore_faces=False) -> None:
        self.pictures_by_seed = pictures_by_seed
        self.sources = {name: picture(name) for name in set(pictures_by_seed.values())}
        self.outdir = tempfile.mkdtemp(prefix="agiqa-a1111-test-")
        shared.opts = shared.default_options()
        shared.sd_model = lambda prompt, seed: self.sources[self.pictures_by_seed[seed]]
        script_class, path = load_script_class()
        runner = scripts.ScriptRunner()
        runner.add(script_class, path, args=args)
        self.p = processing.StableDiffusionProcessingTxt2Img(
            prompt=prompt, negative_prompt=negative_prompt, seed=seed, batch_size=batch_size, n_iter=n_iter,
            outpath_samples=self.outdir, do_not_save_grid=False, extra_generation_params=dict(extra_generation_params or {}),
            restore_faces=restore_faces,
        )
        self.p.scripts = runner
        self.p.script_args = runner.script_args()
        images.saved.clear()
        self.processed = processing.process_images(self.p)

    # -- what came out ------------------------------------------------------------------------

    @property
    def output(self) -> List[Image.Image]:
        """The generated images, without the grid."""
        return self.processed.images[self.processed.index_of_first_image:]

    @property
    def output_infotexts(self) -> List[str]:
        return self.processed.infotexts[self.processed.index_of_first_image:]

    def source_of(self, image: Image.Image) -> str:
        """Which example picture an output image is (the float round trip may change pixels by 1)."""
        pixels = np.asarray(image.convert("RGB"), dtype=np.int16)
        for name, source in self.sources.items():
            if source.size == image.size and np.abs(pixels - np.asarray(source, dtype=np.int16)).max() <= 1:
                return name
        raise AssertionError("an output image matches no source picture")

    def saved_parameters(self) -> List[str]:
        """The `parameters` text chunk of every saved PNG, in save order."""
        texts = []
        for path in images.saved:
            with Image.open(path) as image:
                texts.append(image.text.get("parameters", ""))
        return texts


def field(infotext: str, name: str) -> Optional[str]:
    """The value of one `Name: value` field of an infotext's last line (unquoted), or None."""
    line = infotext.strip().splitlines()[-1]
    for part in _split_params(line):
        key, _, value = part.partition(": ")
        if key == name:
            return value.strip('"')
    return None


def _split_params(line: str) -> List[str]:
    parts, current, quoted = [], "", False
    for char in line:
        if char == '"':
            quoted = not quoted
        if char == "," and not quoted:
            parts.append(current.strip())
            current = ""
        else:
            current += char
    if current.strip():
        parts.append(current.strip())
    return parts
