"""ComfyUI's data types as arrays: IMAGE [B,H,W,C] float 0..1, MASK [B,H,W] or [H,W], LATENT
{"samples": [B,…], optional "noise_mask", "batch_index"}. Works on torch tensors and numpy arrays
alike, and returns the kind it was given, so the nodes never import torch themselves."""

from __future__ import annotations

import json
from typing import Any, Dict, List, Mapping, Optional, Sequence

import numpy as np
from PIL import Image
from PIL.PngImagePlugin import PngInfo


def to_numpy(array: Any) -> np.ndarray:
    """A numpy view of a torch tensor (moved to the CPU) or an array-like."""
    if hasattr(array, "detach"):
        array = array.detach()
    if hasattr(array, "cpu"):
        array = array.cpu()
    if hasattr(array, "numpy") and not isinstance(array, np.ndarray):
        array = array.numpy()
    return np.asarray(array)


def batch_size(images: Any) -> int:
    shape = tuple(images.shape)
    if len(shape) != 4:
        raise ValueError(f"expected an IMAGE batch of shape [B,H,W,C], got shape {list(shape)}")
    return int(shape[0])


def to_uint8(images: Any) -> np.ndarray:
    """An IMAGE (or one image) as SaveImage quantizes it: ×255, clipped, truncated to 8 bits; C-contiguous."""
    return np.ascontiguousarray(np.clip(255.0 * to_numpy(images).astype(np.float32), 0, 255).astype(np.uint8))


class Frames:
    """An IMAGE batch [B,H,W,C] as the 8-bit frames the server scores without any PNG, converted one
    frame at a time when asked (so the first frame can be on its way while the next is converted), with
    SaveImage's quantization: ×255, clipped, truncated. One float scratch frame is reused for every frame."""

    def __init__(self, images: Any) -> None:
        shape = tuple(images.shape)
        if len(shape) != 4:
            raise ValueError(f"expected an IMAGE batch of shape [B,H,W,C], got shape {list(shape)}")
        if shape[3] not in (1, 3, 4):
            raise ValueError(f"an IMAGE needs 1, 3 or 4 channels, got {shape[3]}")
        self.count, self.height, self.width, self.channels = (int(size) for size in shape)
        self._images = images
        self._scratch: Optional[np.ndarray] = None

    @property
    def frame_bytes(self) -> int:
        return self.height * self.width * self.channels

    def frame(self, index: int) -> np.ndarray:
        """Frame `index` as [H,W,C] uint8, C-contiguous (a new array: the caller may keep it)."""
        source = to_numpy(self._images[index])
        if self._scratch is None:
            self._scratch = np.empty((self.height, self.width, self.channels), dtype=np.float32)
        scratch = self._scratch
        if source.dtype == np.float32:
            np.multiply(source, np.float32(255.0), out=scratch)
        else:  # float16/float64 (or ints): to float32 first, as SaveImage's numpy does
            np.copyto(scratch, source, casting="unsafe")
            np.multiply(scratch, np.float32(255.0), out=scratch)
        # np.clip is most of the cost (~0.65 of ~1 ms for 512²); two reductions (~0.1 ms) show when it
        # has nothing to do, as for a VAE's output in 0..1. A NaN fails both tests and is clipped as before.
        if not (scratch.min() >= 0 and scratch.max() <= 255):
            np.clip(scratch, 0, 255, out=scratch)
        return scratch.astype(np.uint8)


def raw_frames(images: Any) -> np.ndarray:
    """An IMAGE batch [B,H,W,C] as the 8-bit frames the server scores without any PNG: [B,H,W,C] uint8,
    C in (1, 3, 4)."""
    frames = Frames(images)
    out = np.empty((frames.count, frames.height, frames.width, frames.channels), dtype=np.uint8)
    for index in range(frames.count):
        out[index] = frames.frame(index)
    return out


def image_to_pil(image: Any) -> Image.Image:
    """One [H,W,C] image as SaveImage writes it: ×255, clipped, truncated to 8 bits."""
    pixels = to_uint8(image)
    if pixels.ndim == 3 and pixels.shape[2] == 1:
        pixels = pixels[:, :, 0]
    if pixels.ndim == 2:
        return Image.fromarray(pixels, mode="L")
    if pixels.shape[2] == 3:
        return Image.fromarray(pixels, mode="RGB")
    if pixels.shape[2] == 4:
        return Image.fromarray(pixels, mode="RGBA")
    raise ValueError(f"an IMAGE needs 1, 3 or 4 channels, got {pixels.shape[2]}")


def png_info(text: Optional[Mapping[str, str]]) -> Optional[PngInfo]:
    """`text` as the tEXt chunks of a PNG PIL writes (the Save node's files); None when there are none."""
    if not text:
        return None
    info = PngInfo()
    for key, value in text.items():
        info.add_text(key, value)
    return info


def take(array: Any, indices: Sequence[int]) -> Any:
    """Rows `indices` of a batch (torch or numpy), in that order; an empty list gives an empty batch."""
    index_list = [int(index) for index in indices]
    if isinstance(array, np.ndarray):
        return array[np.asarray(index_list, dtype=np.int64)]
    if hasattr(array, "index_select"):  # torch: index on the tensor's own device
        import torch  # present whenever a torch tensor is

        return array.index_select(0, torch.tensor(index_list, dtype=torch.long, device=array.device))
    return np.asarray(array)[np.asarray(index_list, dtype=np.int64)]


def take_mask(mask: Any, indices: Sequence[int], images: int) -> Any:
    """A MASK kept in step with the images: per-image masks are selected, a single shared mask is kept."""
    shape = tuple(mask.shape)
    if len(shape) == 2 or (len(shape) == 3 and shape[0] == 1 and images != 1):
        return mask
    if len(shape) == 3 and shape[0] == images:
        return take(mask, indices)
    raise ValueError(f"the MASK batch ({shape[0] if shape else '?'}) does not match the IMAGE batch ({images})")


def take_latent(latent: Mapping[str, Any], indices: Sequence[int], images: int) -> Dict[str, Any]:
    """A LATENT kept in step with the images: samples, a per-image noise_mask and batch_index follow."""
    samples = latent["samples"]
    if int(samples.shape[0]) != images:
        raise ValueError(
            f"the LATENT batch ({int(samples.shape[0])}) does not match the IMAGE batch ({images}): "
            "connect the latent the images were decoded from"
        )
    selected: Dict[str, Any] = dict(latent)
    selected["samples"] = take(samples, indices)
    noise_mask = latent.get("noise_mask")
    if noise_mask is not None and len(noise_mask.shape) >= 3 and int(noise_mask.shape[0]) == images and images > 1:
        selected["noise_mask"] = take(noise_mask, indices)
    batch_index = latent.get("batch_index")
    if isinstance(batch_index, list) and len(batch_index) == images:
        selected["batch_index"] = [batch_index[int(index)] for index in indices]
    return selected


def graph_text_chunks(prompt: Any, extra_pnginfo: Any) -> Dict[str, str]:
    """ComfyUI's own PNG metadata, as SaveImage writes it: `prompt` and each extra_pnginfo key (workflow)."""
    chunks: Dict[str, str] = {}
    if prompt is not None:
        chunks["prompt"] = json.dumps(prompt)
    if isinstance(extra_pnginfo, dict):
        for key, value in extra_pnginfo.items():
            chunks[key] = json.dumps(value)
    return chunks


def split_batch(images: Any) -> List[Any]:
    return [images[index] for index in range(batch_size(images))]
