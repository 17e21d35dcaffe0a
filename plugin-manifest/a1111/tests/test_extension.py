"""The extension inside the stand-in web UI, scoring with a real `agiqa serve` process."""

import json
import logging
import os
import socket
import struct
import subprocess
import sys
import threading
import unittest
import urllib.request

import numpy as np
from PIL import Image, ImageFilter

from a1111_test_support import EXAMPLES, EXTENSION_DIR, TESTS_DIR, Generation, field, settings_args
from agiqa_server import REPO_ROOT, AgiqaServer

from modules import errors, face_restoration

SHARP, BLURRED, CAT, NOISY_CAT = "coffee.png", "coffee-blurred.png", "chelsea.png", "chelsea-noisy.png"
server = None
# The embedded pack as the server names it in infotext: "<name> <version>" from the repo's pack.json.
LITE_PACK = "lite " + json.loads((REPO_ROOT / "models" / "lite" / "pack.json").read_text("utf-8"))["version"]


def setUpModule():
    global server
    server = AgiqaServer().start()


def tearDownModule():
    if server is not None:
        server.stop()


def score_requests():
    """POST /v1/score requests the test server has answered so far (from its Prometheus metrics)."""
    with urllib.request.urlopen(server.url + "/metrics", timeout=30) as response:
        lines = response.read().decode("utf-8").splitlines()
    return sum(float(line.rsplit(" ", 1)[1]) for line in lines
               if line.startswith("agiqa_http_requests_total{") and 'route="/v1/score"' in line and 'method="POST"' in line)


def closed_port_url():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class LoadsLikeTheWebUILoadsIt(unittest.TestCase):
    def test_the_script_finds_its_package_through_the_webui_loader_alone(self):
        # A clean interpreter with only the stand-ins on sys.path: the extension's folder is added by
        # the loader while it loads scripts/agiqa.py, as in the web UI.
        code = (
            "import sys; sys.path.insert(0, %r)\n"
            "from modules import scripts\n"
            "[(cls, path)] = scripts.load_script_classes(%r)\n"
            "script = cls()\n"
            "assert script.show(False) is scripts.AlwaysVisible\n"
            "print(script.title(), cls.__module__)\n" % (str(TESTS_DIR / "standins"), str(EXTENSION_DIR))
        )
        result = subprocess.run([sys.executable, "-c", code], cwd="/", capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout.strip(), "AGIQA agiqa")


class ScoresEveryImage(unittest.TestCase):
    def test_infotext_keeps_what_is_there_and_adds_each_images_own_score(self):
        run = Generation({100: SHARP, 101: BLURRED}, settings_args(url=server.url),
                         extra_generation_params={"Hires upscale": 2, "ADetailer model": "face_yolov8n.pt"})
        self.assertEqual([run.source_of(image) for image in run.output], [SHARP, BLURRED])
        saved = run.saved_parameters()
        self.assertEqual(len(saved), 2)
        for text, seed in zip(saved, (100, 101)):
            lines = text.splitlines()
            self.assertEqual(lines[0], "an espresso, studio light")
            self.assertEqual(lines[1], "Negative prompt: blurry")
            self.assertTrue(lines[2].startswith(f"Steps: 20, Sampler: Euler a, CFG scale: 7.0, Seed: {seed}, Size: 64x64"), lines[2])
            self.assertEqual(field(text, "Hires upscale"), "2")
            self.assertEqual(field(text, "ADetailer model"), "face_yolov8n.pt")
            self.assertEqual(field(text, "AGIQA pack"), LITE_PACK)
        sharp_mos, blurred_mos = (float(field(text, "AGIQA MOS")) for text in saved)
        self.assertGreater(sharp_mos, 3.0)
        self.assertLess(blurred_mos, 2.5)  # below the pass threshold the verdict below checks
        self.assertEqual(field(saved[0], "AGIQA quality"), f"{sharp_mos:.2f}")
        self.assertIsNone(field(saved[0], "AGIQA correspondence"))  # the prompt names no object the lite pack can check
        self.assertEqual(field(saved[0], "AGIQA verdict"), "pass")
        self.assertEqual(field(saved[1], "AGIQA verdict"), f"below threshold (overall {blurred_mos:.2f} < 2.50)")
        # The gallery shows `infotexts` (and the PNG in memory carries the same text); the grid names no score.
        self.assertEqual(run.output_infotexts, saved)
        self.assertEqual([image.info["parameters"] for image in run.output], saved)
        self.assertEqual(run.processed.index_of_first_image, 1)
        self.assertIsNone(field(run.processed.infotexts[0], "AGIQA MOS"))
        self.assertIn("Hires upscale: 2", run.processed.infotexts[0])
        self.assertIn(f"AGIQA ({LITE_PACK}): 2 scored, MOS {sharp_mos:.2f}, {blurred_mos:.2f}; 1 pass the thresholds", run.processed.comments)
        # Processed.js (the API's `info`) still serialises.
        self.assertIn('"all_seeds": [100, 101]', run.processed.js())

    def test_an_unchanged_picture_is_sent_once_and_a_restored_one_is_scored_as_restored(self):
        before = score_requests()
        Generation({200: SHARP, 201: CAT}, settings_args(url=server.url), seed=200)
        self.assertEqual(score_requests() - before, 2)  # the batch, then each image found already scored

        face_restoration.restorer = lambda pixels: np.asarray(Image.fromarray(pixels).filter(ImageFilter.GaussianBlur(4)))
        try:
            before = score_requests()
            run = Generation({300: SHARP, 301: CAT}, settings_args(url=server.url), seed=300, restore_faces=True)
        finally:
            face_restoration.restorer = lambda pixels: pixels
        self.assertEqual(score_requests() - before, 4)
        for text in run.output_infotexts:  # the score of the picture that was saved: blurred by the "restorer"
            self.assertLess(float(field(text, "AGIQA MOS")), 2.5)

    def test_disabled_changes_nothing(self):
        run = Generation({100: SHARP, 101: BLURRED}, settings_args(enabled=False, url=server.url, mode="drop below threshold"))
        self.assertEqual(len(run.output), 2)
        self.assertFalse(any("AGIQA" in text for text in run.processed.infotexts))
        self.assertNotIn("AGIQA", run.processed.comments)


class ReordersAndDrops(unittest.TestCase):
    def assert_aligned(self, run, expected_order):
        """Each returned image, its infotext, its saved PNG and the run lists name the same generation."""
        prompts_by_seed = {seed: prompt for seed, prompt in zip(run.generated_seeds, run.generated_prompts)}
        self.assertEqual([run.source_of(image) for image in run.output], [run.pictures_by_seed[s] for s in expected_order])
        self.assertEqual(run.processed.all_seeds, expected_order)
        self.assertEqual(run.processed.all_prompts, [prompts_by_seed[s] for s in expected_order])
        self.assertEqual(run.p.all_seeds, expected_order)
        self.assertEqual(run.p.all_prompts, [prompts_by_seed[s] for s in expected_order])
        self.assertEqual(run.processed.seed, expected_order[0])
        for text, seed in zip(run.output_infotexts, expected_order):
            self.assertEqual(text.splitlines()[0], prompts_by_seed[seed])
            self.assertEqual(field(text, "Seed"), str(seed))
        self.assertEqual(run.saved_parameters(), run.output_infotexts)

    def generation(self, pictures_by_seed, args, prompts, **kwargs):
        run = Generation(pictures_by_seed, args, prompt=prompts, seed=min(pictures_by_seed), **kwargs)
        run.generated_seeds = sorted(pictures_by_seed)
        run.generated_prompts = prompts
        return run

    def test_reorder_puts_the_sharp_image_first_with_its_prompt_and_seed(self):
        prompts = ["blurred coffee", "sharp coffee"]
        run = self.generation({100: BLURRED, 101: SHARP}, settings_args(url=server.url, mode="reorder by score"), prompts)
        self.assert_aligned(run, [101, 100])
        mos = [float(field(text, "AGIQA MOS")) for text in run.output_infotexts]
        self.assertGreater(mos[0], mos[1])
        self.assertIn("best first", run.processed.comments)

    def test_drop_removes_images_below_threshold_across_batches(self):
        # The prompts name no object the lite pack can check, so the ranking is by quality alone.
        prompts = ["sharp coffee", "blurred coffee", "a feline", "a noisy feline"]
        pictures = {100: SHARP, 101: BLURRED, 102: CAT, 103: NOISY_CAT}
        run = self.generation(pictures, settings_args(url=server.url, mode="drop below threshold", keep_at_least=0), prompts, batch_size=2, n_iter=2)
        self.assert_aligned(run, [100, 102])
        self.assertIn("2 below threshold dropped", run.processed.comments)

    def test_keep_at_least_n_keeps_the_best_of_a_batch_that_all_fails(self):
        prompts = ["sharp coffee", "blurred coffee", "a feline", "a noisy feline"]
        pictures = {100: SHARP, 101: BLURRED, 102: CAT, 103: NOISY_CAT}
        run = self.generation(pictures, settings_args(url=server.url, overall=4.5, mode="drop below threshold", keep_at_least=2), prompts, batch_size=4)
        self.assert_aligned(run, [100, 102])  # the two best, in the order generated
        for text in run.output_infotexts:
            self.assertTrue(field(text, "AGIQA verdict").startswith("below threshold (overall "))

    def test_a_run_never_ends_with_no_image_even_with_keep_at_least_zero(self):
        # Both fail the 4.5 threshold; the better one (the sharp photo, generated second) is kept. A blurred
        # photo and a noisy one score within 0.02 of each other under lite 0.5.0, too close to pin an order.
        prompts = ["blurred coffee", "sharp coffee"]
        run = self.generation({100: BLURRED, 101: SHARP}, settings_args(url=server.url, overall=4.5, mode="drop below threshold", keep_at_least=0), prompts)
        self.assert_aligned(run, [101])
        self.assertEqual(len(run.processed.images), 1)  # no grid for a single image


class ServerDown(unittest.TestCase):
    def test_generation_completes_unscored_with_one_message_naming_the_command(self):
        url = closed_port_url()
        errors.reported.clear()
        with self.assertLogs("agiqa", level="WARNING") as logs:
            run = Generation({100: SHARP, 101: BLURRED, 102: CAT}, settings_args(url=url, mode="drop below threshold"), batch_size=3)
        self.assertEqual(len(run.output), 3)
        self.assertEqual(len(logs.records), 1, logs.output)
        message = logs.records[0].getMessage()
        self.assertIn(f"no scoring server answers at {url} (connection refused)", message)
        self.assertIn("`npx agiqa serve`", message)
        self.assertEqual(errors.reported, [])  # no hook raised
        self.assertFalse(any("AGIQA" in text for text in run.processed.infotexts))
        self.assertIn(message, run.processed.comments)


class ResetFirstConnectionProxy:
    """Resets the first connection (as a server closing mid-upload does), then relays to `target`."""

    def __init__(self, target: str) -> None:
        host, port = target.rsplit("//", 1)[1].split(":")
        self.target = (host, int(port))
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(4)
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.connections = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            connection, _ = self.listener.accept()
            self.connections += 1
            if self.connections == 1:
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                connection.close()  # linger 0: the close sends RST
                continue
            upstream = socket.create_connection(self.target)
            for source, sink in ((connection, upstream), (upstream, connection)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
            sink.shutdown(socket.SHUT_WR)
        except OSError:
            pass


class ConnectionCutOff(unittest.TestCase):
    def test_a_reset_connection_is_retried_once_and_the_image_scored(self):
        from agiqa_a1111.client import AgiqaClient

        proxy = ResetFirstConnectionProxy(server.url)
        from agiqa_a1111.images import raw_frame

        with Image.open(EXAMPLES / SHARP) as image:
            frame = raw_frame(image.convert("RGB"))
        score = AgiqaClient(proxy.url).score_frame(frame, prompt="a cup of coffee")
        self.assertGreater(score.mos, 3.0)
        self.assertEqual(proxy.connections, 2)


class Token(unittest.TestCase):
    def test_the_token_from_agiqa_token_is_sent_and_a_missing_one_is_explained(self):
        token = "a-test-token-of-24-chars"
        with AgiqaServer(token=token) as guarded:
            previous = os.environ.pop("AGIQA_TOKEN", None)
            try:
                with self.assertLogs("agiqa", level="WARNING") as logs:
                    refused = Generation({100: SHARP, 101: BLURRED}, settings_args(url=guarded.url))
                self.assertEqual(len(logs.records), 1, logs.output)
                self.assertIn("set AGIQA_TOKEN", logs.records[0].getMessage())
                self.assertIsNone(field(refused.output_infotexts[0], "AGIQA MOS"))
                os.environ["AGIQA_TOKEN"] = token
                accepted = Generation({100: SHARP}, settings_args(url=guarded.url), batch_size=1)
                self.assertIsNotNone(field(accepted.output_infotexts[0], "AGIQA MOS"))
            finally:
                os.environ.pop("AGIQA_TOKEN", None)
                if previous is not None:
                    os.environ["AGIQA_TOKEN"] = previous


if __name__ == "__main__":
    logging.basicConfig()
    unittest.main()
