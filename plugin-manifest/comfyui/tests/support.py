"""Shared by the tests: the ComfyUI stand-ins on sys.path, one real `agiqa serve` for the run,
and IMAGE batches made from the repository's example photos."""

from __future__ import annotations

import atexit
import json
import os
import sys
import threading
import urllib.request
from pathlib import Path
from typing import List, Optional

import numpy as np
from PIL import Image, ImageFilter

TESTS = Path(__file__).resolve().parent
PACK = TESTS.parent
sys.path.insert(0, str(TESTS / "standins"))
sys.path.insert(0, str(PACK.parent / "testing"))
try:
    import aiohttp  # noqa: F401  (ComfyUI's own; use it when present)
except ImportError:
    sys.path.insert(0, str(TESTS / "aiohttp_standin"))

from agiqa_server import REPO_ROOT, AgiqaServer  # noqa: E402

EXAMPLES = REPO_ROOT / "examples"

_server: Optional[AgiqaServer] = None
_lock = threading.Lock()


def shared_server() -> AgiqaServer:
    """One server for the whole run (it takes seconds to load its pack); AGIQA_URL points at it."""
    global _server
    with _lock:
        if _server is None:
            _server = AgiqaServer().start()
            atexit.register(_server.stop)
        os.environ["AGIQA_URL"] = _server.url
        os.environ.pop("AGIQA_TOKEN", None)
        return _server


def photo(name: str) -> np.ndarray:
    """One example photo as an [H,W,3] float32 image in 0..1."""
    with Image.open(EXAMPLES / name) as image:
        return np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0


def blurred(name: str, radius: float) -> np.ndarray:
    with Image.open(EXAMPLES / name) as image:
        return np.asarray(image.convert("RGB").filter(ImageFilter.GaussianBlur(radius)), dtype=np.float32) / 255.0


def batch(images: List[np.ndarray]) -> np.ndarray:
    """An IMAGE batch: [B,H,W,C] float32."""
    return np.stack(images).astype(np.float32)


def coffee_batch() -> np.ndarray:
    """Sharp, lightly blurred, the repo's blurred copy, heavily blurred: best to worst by construction."""
    return batch([photo("coffee.png"), blurred("coffee.png", 1.5), photo("coffee-blurred.png"), blurred("coffee.png", 8)])


def latent_for(images: np.ndarray) -> dict:
    """A LATENT whose sample i holds the value i everywhere, so reordering is visible."""
    count = images.shape[0]
    samples = np.stack([np.full((4, 8, 8), float(index), dtype=np.float32) for index in range(count)])
    return {"samples": samples, "batch_index": list(range(100, 100 + count))}


def mask_for(images: np.ndarray) -> np.ndarray:
    count, height, width = images.shape[:3]
    return np.stack([np.full((height, width), index / 10.0, dtype=np.float32) for index in range(count)])


def get_json(path: str) -> dict:
    """GET a path of the shared server (tests read back what the nodes stored)."""
    with urllib.request.urlopen(shared_server().url + path, timeout=10) as response:
        return json.loads(response.read().decode("utf-8"))
