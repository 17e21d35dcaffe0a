"""A server that admits few images at once: batches are sliced to its capacity and a busy answer
(503 + Retry-After) is waited out instead of failing the node."""

import os
import threading
import unittest
from unittest import mock

import numpy as np

from tests import support
from agiqa_nodes.client import AgiqaClient
from agiqa_nodes.nodes import AGIQARank
from agiqa_nodes.scoring import score_images


def gradient_batch(count: int, size: int = 160) -> np.ndarray:
    """Images whose sharpness falls with the index: a checkerboard fading to flat grey."""
    ys, xs = np.mgrid[0:size, 0:size]
    board = ((ys // 8 + xs // 8) % 2).astype(np.float32)
    images = [0.5 + (board - 0.5) * (1 - index / count) for index in range(count)]
    return np.stack([np.repeat(image[..., None], 3, axis=2) for image in images]).astype(np.float32)


class BusyServerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # One worker and two waiting places: three images admitted at once.
        cls.server = support.AgiqaServer(env={"AGIQA_MAX_QUEUE": "2", "AGIQA_WORKERS": "1"}).start()
        cls.env = mock.patch.dict(os.environ, {"AGIQA_URL": cls.server.url})
        cls.env.start()

    @classmethod
    def tearDownClass(cls):
        cls.env.stop()
        cls.server.stop()

    def test_a_batch_larger_than_the_servers_capacity_is_sent_in_slices(self):
        client = AgiqaClient()
        self.assertEqual(client.batch_limit(), 3)
        images = gradient_batch(7)
        scores = score_images(images, prompt="a checkerboard", client=client)
        self.assertEqual([score.index for score in scores], list(range(7)))
        self.assertEqual(len({score.generation_id for score in scores}), 7)
        # Every slice was scored: the ranking over all seven is one ranking.
        ranked = AGIQARank().rank(images, top_k=7)
        self.assertEqual(sorted(int(index) for index in ranked["result"][3].split(",")), list(range(7)))

    def test_a_busy_server_is_waited_out(self):
        # Two batches at once against room for one: the later one is answered busy and waits. On a loaded
        # machine one thread can finish before the other sends, so the pair is run again (at most three
        # times) until they overlap; every run must score both batches whole.
        clients = [AgiqaClient(), AgiqaClient()]
        batches = [gradient_batch(3, 320), gradient_batch(3, 320)[::-1].copy()]
        for attempt in range(3):
            # New pixels each run: a repeat of stored images is answered without taking a slot.
            shown = [np.clip(batch + attempt * 0.01, 0, 1).astype(np.float32) for batch in batches]
            start = threading.Barrier(2)
            results, errors = [None, None], []

            def run(position):
                start.wait()
                try:
                    results[position] = score_images(shown[position], prompt=f"batch {position}", client=clients[position])
                except Exception as error:  # reported below with its message
                    errors.append(error)

            threads = [threading.Thread(target=run, args=(position,)) for position in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(120)
            self.assertEqual(errors, [])
            self.assertEqual([len(result) for result in results], [3, 3])
            if sum(client.retries for client in clients) >= 1:
                break
        self.assertGreaterEqual(sum(client.retries for client in clients), 1, "the two batches never overlapped in three runs")

if __name__ == "__main__":
    unittest.main()
