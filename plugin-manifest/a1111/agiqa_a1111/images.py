"""The web UI's image forms, turned into the raw 8-bit frames the server scores.

`postprocess_batch_list` sees decoded samples (A1111: torch tensors, channels first, floats 0–1;
some forks: PIL images or numpy arrays); `postprocess_image` sees a PIL image. Both become 8-bit
pixels exactly the way the web UI itself turns a sample into an image, so the same picture gives the
same bytes (and the server's cache answers the second time). The pixels go as they are: no PNG
encode here and no decode in the server.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from PIL import Image


def to_pil(sample) -> Image.Image:
    """A PIL image from a PIL image, a torch tensor or a numpy array (CHW floats 0–1 or HWC uint8)."""
    if isinstance(sample, Image.Image):
        return sample
    if hasattr(sample, "detach") and hasattr(sample, "cpu"):  # a torch tensor, without importing torch
        sample = sample.detach().float().cpu().numpy()
    array = np.asarray(sample)
    if array.ndim == 3 and array.shape[0] in (1, 3, 4) and array.shape[-1] not in (1, 3, 4):
        array = np.moveaxis(array, 0, 2)  # channels first → last
    if array.dtype != np.uint8:
        # The web UI's own conversion: 255 * x, truncated to uint8 (samples are already clamped to 0–1).
        array = (255.0 * np.clip(array.astype(np.float32), 0.0, 1.0)).astype(np.uint8)
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    return Image.fromarray(array)


class RawFrame(NamedTuple):
    """A PIL image's pixels as the server's raw-frame upload takes them."""

    data: bytes
    width: int
    height: int
    channels: int


_CHANNELS = {"L": 1, "RGB": 3, "RGBA": 4}


def raw_frame(image: Image.Image) -> RawFrame:
    """The image's 8-bit pixels, row-major, channels interleaved (grey, RGB or RGBA; other modes as RGB)."""
    if image.mode not in _CHANNELS:
        image = image.convert("RGB")
    return RawFrame(image.tobytes(), image.width, image.height, _CHANNELS[image.mode])
