"""The ComfyUI node's scoring path timed from Python, for bench/pipeline.bench.ts: each round scores a
512² batch of 4 (distinct pixels every round, so the server's dedupe never answers) the way the Score
node does now (raw 8-bit frames, one /v1/rank) and the way it did before (PNG per image + base64 JSON),
alternating. Prints one JSON line per round: wall ms of the call and the generation ids it stored."""

import base64
import io
import json
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

PACK = Path(sys.argv[1])
ROUNDS = int(sys.argv[2])
sys.path.insert(0, str(PACK))

from agiqa_nodes.client import AgiqaClient  # noqa: E402
from agiqa_nodes.scoring import score_images  # noqa: E402


def batch(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:512, 0:512].astype(np.float32) / 512.0
    base = np.stack([x, y, (x + y) / 2], axis=-1)
    return np.stack([np.clip(base + rng.normal(0, 0.05, base.shape).astype(np.float32), 0, 1) for _ in range(4)]).astype(np.float32)


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


client = AgiqaClient()
seed = 1000
for round_index in range(ROUNDS):
    for variant in ("raw", "png"):
        seed += 1
        images = batch(seed)
        started = time.perf_counter()
        if variant == "raw":
            scores = score_images(images, prompt="a gradient", client=client)
            ids = [score.generation_id for score in scores]
        else:
            client.batch_limit()  # the node asked the server's capacity before encoding, as it still does
            ids = png_path(client, images)
        wall = (time.perf_counter() - started) * 1000.0
        print(json.dumps({"round": round_index, "variant": variant, "wallMs": wall, "ids": ids}), flush=True)
