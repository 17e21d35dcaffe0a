"""The ComfyUI node's scoring path timed from Python, for bench/pipeline.bench.ts. Reads one command per
line on stdin and answers one JSON line per command, so the bench can interleave these rounds with its
own bare-scorer rounds:
  raw   — a 512² batch of 4 scored the way the Score node does now (score_images: frames converted one
          at a time as the body streams out, one /v1/rank);
  raw2  — two such batches back to back, timing the second (the server's background work of the first,
          thumbnails, still pending);
  whole — as raw, but the frames go without file names, which the server does not start scoring
          before the body is complete: the server as it was before it scored frames as they arrived;
  png   — the way it did before (PNG level 1 per image + base64 JSON).
Every batch has distinct pixels, so the server's dedupe never answers. Each answer carries the wall ms
of the call, the Python-side conversion ms of the same batch (timed apart, outside the call) and the
generation ids stored."""

import base64
import io
import json
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

PACK = Path(sys.argv[1])
sys.path.insert(0, str(PACK))

from agiqa_nodes import client as client_module  # noqa: E402
from agiqa_nodes.client import AgiqaClient  # noqa: E402
from agiqa_nodes.scoring import score_images  # noqa: E402
from agiqa_nodes.tensors import Frames  # noqa: E402

Y, X = np.mgrid[0:512, 0:512].astype(np.float32) / 512.0
BASE = np.stack([X, Y, (X + Y) / 2], axis=-1)


def batch(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.stack([np.clip(BASE + rng.normal(0, 0.05, BASE.shape).astype(np.float32), 0, 1) for _ in range(4)]).astype(np.float32)


def png_path(client: AgiqaClient, images: np.ndarray) -> list:
    """The node before raw frames: SaveImage's quantization, a PNG per image (level 1), base64 JSON."""
    entries = []
    for index, image in enumerate(images):
        pixels = np.clip(255.0 * image, 0, 255).astype(np.uint8)
        buffer = io.BytesIO()
        Image.fromarray(pixels, mode="RGB").save(buffer, format="PNG", compress_level=1)
        entries.append({"image": base64.b64encode(buffer.getvalue()).decode("ascii"), "name": f"png-{index}.png"})
    answer = client._post_json("/v1/rank", {"source": "comfyui-node", "images": entries, "prompt": "a gradient"}, 300.0)
    return [item["generationId"] for item in sorted(answer["items"], key=lambda item: item["index"])]


def raw_path(client: AgiqaClient, images: np.ndarray) -> list:
    return [score.generation_id for score in score_images(images, prompt="a gradient", client=client)]


class _Unnamed(client_module._StreamedMultipart):
    """The node's body with its frames' file names left out (and nothing else changed)."""

    def __init__(self, fields, file_field, files, frame_bytes, frame_of):
        super().__init__(fields, file_field, [("", index) for _, index in files], frame_bytes, frame_of)
        self.parts = [(header.replace(b'; filename=""', b""), index) for header, index in self.parts]
        self.length = len(self.head) + sum(len(header) + frame_bytes + len(self.closing) for header, _ in self.parts) + len(self.tail)


def whole_path(client: AgiqaClient, images: np.ndarray) -> list:
    streamed = client_module._StreamedMultipart
    client_module._StreamedMultipart = _Unnamed
    try:
        return raw_path(client, images)
    finally:
        client_module._StreamedMultipart = streamed


def conversion_ms(images: np.ndarray) -> float:
    frames = Frames(images)
    started = time.perf_counter()
    for index in range(frames.count):
        frames.frame(index)
    return (time.perf_counter() - started) * 1000.0


client = AgiqaClient()
seed = 1000
for line in sys.stdin:
    command = line.strip()
    if not command:
        continue
    seed += 2
    first, images = batch(seed), batch(seed + 1)
    if command == "raw2":
        raw_path(client, first)
    started = time.perf_counter()
    ids = png_path(client, images) if command == "png" else whole_path(client, images) if command == "whole" else raw_path(client, images)
    wall = (time.perf_counter() - started) * 1000.0
    print(json.dumps({"variant": command, "wallMs": wall, "convertMs": conversion_ms(images), "ids": ids}), flush=True)
