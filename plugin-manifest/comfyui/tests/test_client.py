"""The client's transport: a batch's body streams out frame by frame (each converted only when the
socket is ready for it), and the server's capacity is asked once per URL, not before every batch."""

import json
import threading
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np

from tests import support  # noqa: F401  (paths)
from agiqa_nodes import client as client_module
from agiqa_nodes.client import AgiqaClient
from agiqa_nodes.tensors import Frames


class RecordingServer:
    """Answers /v1/health with a capacity and /v1/rank with one item per part; records what came in."""

    def __init__(self) -> None:
        self.paths = []
        self.bodies = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                recorder.paths.append(self.path)
                self._json({"queue": {"capacity": 2}})

            def do_POST(self):
                recorder.paths.append(self.path)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                recorder.bodies.append((self.headers["Content-Type"], body))
                parts = body.count(b'name="pixels"')
                self._json({"items": [{"index": index, "result": {"mos": 3.0}} for index in range(parts)]})

            def _json(self, value):
                data = json.dumps(value).encode("utf-8")
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class StreamedBodyTest(unittest.TestCase):
    def setUp(self):
        self.server = RecordingServer()
        self.addCleanup(self.server.stop)
        client_module._capacity_cache.clear()

    def test_frames_are_converted_as_the_body_reaches_them_and_arrive_whole(self):
        images = np.random.default_rng(1).random((3, 4, 5, 3)).astype(np.float32)
        frames = Frames(images)
        converted = []
        original = frames.frame
        frames.frame = lambda index: converted.append(index) or original(index)
        client = AgiqaClient(url=self.server.url)
        body = client_module._StreamedMultipart({"width": "5"}, "pixels", [("a.raw", 0), ("b.raw", 1)], frames.frame_bytes, lambda index: memoryview(frames.frame(index)).cast("B"))
        chunks = body.chunks()
        next(chunks)  # the fields
        self.assertEqual(converted, [])  # no frame converted before the body reaches it
        next(chunks)
        next(chunks)
        self.assertEqual(converted, [0])
        # The delimiter that closes frame 0 goes out before frame 1 is converted: the server can score it.
        self.assertEqual(next(chunks), b"\r\n--" + body.boundary.encode("ascii"))
        self.assertEqual(converted, [0])
        self.assertEqual(sum(len(chunk) for chunk in body.chunks()), body.length)
        items = client.rank_frames(frames, prompt="p", limit=8)
        self.assertEqual([item["index"] for item in items], [0, 1, 2])
        content_type, sent = self.server.bodies[-1]
        boundary = content_type.split("boundary=")[1].encode("ascii")
        parts = [part for part in sent.split(b"--" + boundary) if b'name="pixels"' in part]
        self.assertEqual(len(parts), 3)
        for index, part in enumerate(parts):
            pixels = part.split(b"\r\n\r\n", 1)[1][:-2]
            self.assertEqual(pixels, original(index).tobytes())

    def test_the_capacity_is_asked_once_per_url_and_slices_the_batch(self):
        client = AgiqaClient(url=self.server.url)
        self.assertEqual(client.batch_limit(), 2)
        self.assertEqual(AgiqaClient(url=self.server.url).batch_limit(), 2)
        self.assertEqual(self.server.paths.count("/v1/health"), 1)
        items = client.rank_frames(Frames(np.zeros((5, 2, 2, 3), np.float32)))
        self.assertEqual([item["index"] for item in items], [0, 1, 2, 3, 4])
        self.assertEqual(self.server.paths.count("/v1/rank"), 3)  # slices of 2, 2, 1
        self.assertEqual(self.server.paths.count("/v1/health"), 1)


if __name__ == "__main__":
    unittest.main()
