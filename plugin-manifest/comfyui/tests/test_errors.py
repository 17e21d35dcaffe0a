"""What a ComfyUI user sees when the server is missing or refuses a request, and the pack loading
the way ComfyUI loads it."""

import importlib.util
import os
import re
import socket
import struct
import sys
import threading
import unittest
from unittest import mock

from tests import support
from agiqa_nodes.client import AgiqaClient, AgiqaError, AgiqaServerUnavailable
from agiqa_nodes.nodes import AGIQAFilter, AGIQAScore

import server as comfy_server  # stand-in


def free_port() -> int:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        return listener.getsockname()[1]


class ResetOnceServer:
    """Resets the first connection (as a server closing mid-upload does), then answers JSON."""

    def __init__(self) -> None:
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(4)
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.connections = 0
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while self.connections < 2:
            connection, _ = self.listener.accept()
            self.connections += 1
            with connection:
                if self.connections == 1:
                    connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    continue  # closing with linger 0 sends RST
                connection.recv(65536)
                body = b'{"status": "ok"}'
                connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))


class ConnectionCutOffTest(unittest.TestCase):
    def test_a_reset_connection_is_retried_not_reported_as_no_server(self):
        server = ResetOnceServer()
        client = AgiqaClient(url=server.url)
        self.assertEqual(client._request("GET", "/v1/health", None, 10), {"status": "ok"})
        self.assertEqual(server.connections, 2)
        self.assertEqual(client.retries, 1)


class ServerDownTest(unittest.TestCase):
    def test_every_node_fails_with_one_line_naming_the_command(self):
        url = f"http://127.0.0.1:{free_port()}"
        images = support.batch([support.photo("coffee.png")])
        with mock.patch.dict(os.environ, {"AGIQA_URL": url}):
            for call in (lambda: AGIQAScore().score(images), lambda: AGIQAFilter().filter(images)):
                with self.assertRaises(AgiqaServerUnavailable) as raised:
                    call()
                message = str(raised.exception)
                self.assertNotIn("\n", message)
                self.assertIn(f"no scoring server at {url}", message)
                self.assertIn("`npx agiqa serve`", message)
                self.assertIn("(or `agiqa serve` if installed globally)", message)
                self.assertIsNone(raised.exception.__cause__)  # no chained traceback noise

    def test_the_default_url_is_the_servers_default(self):
        # Read from the server's own config schema, so a change of its default port fails here.
        schema = (support.REPO_ROOT / "src/config/config-schema.ts").read_text()
        port = re.search(r"export const DEFAULT_PORT = (\d+);", schema).group(1)
        with mock.patch.dict(os.environ, {}, clear=False):
            os.environ.pop("AGIQA_URL", None)
            self.assertEqual(AgiqaClient().url, f"http://127.0.0.1:{port}")


class ServerRefusesTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = support.AgiqaServer(token="a-test-token-of-24-chars").start()

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()

    def test_a_4xx_shows_the_servers_error_message_and_code(self):
        images = support.batch([support.photo("coffee.png")])
        with mock.patch.dict(os.environ, {"AGIQA_URL": self.server.url, "AGIQA_TOKEN": "wrong-token-wrong-token"}):
            with self.assertRaises(AgiqaError) as raised:
                AGIQAScore().score(images)
        message = str(raised.exception)
        self.assertTrue(message.startswith("agiqa server: "), message)
        self.assertIn("(set AGIQA_TOKEN to the server's token)", message)
        self.assertRegex(message, r"\[AGQ_ERR_[A-Z_]+\]$")
        self.assertNotIn("\n", message)

    def test_the_token_from_agiqa_token_is_sent(self):
        images = support.batch([support.photo("coffee.png")])
        with mock.patch.dict(os.environ, {"AGIQA_URL": self.server.url, "AGIQA_TOKEN": "a-test-token-of-24-chars"}):
            mos = AGIQAScore().score(images)["result"][0]
        self.assertGreater(mos, 1.0)


class PackLoadingTest(unittest.TestCase):
    def test_comfyui_loads_the_pack_by_folder_and_gets_nodes_web_directory_and_route(self):
        """ComfyUI imports a custom node folder by path under its folder name (`agiqa` from the installer)."""
        prompt_server = comfy_server.PromptServer()
        spec = importlib.util.spec_from_file_location(
            "agiqa", str(support.PACK / "__init__.py"), submodule_search_locations=[str(support.PACK)]
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules["agiqa"] = module
        self.addCleanup(sys.modules.pop, "agiqa", None)
        spec.loader.exec_module(module)
        self.assertEqual(set(module.NODE_CLASS_MAPPINGS), {"AGIQAScore", "AGIQAFilter", "AGIQARank", "AGIQASaveWithScore"})
        self.assertEqual(set(module.NODE_DISPLAY_NAME_MAPPINGS), set(module.NODE_CLASS_MAPPINGS))
        self.assertTrue((support.PACK / module.WEB_DIRECTORY / "js" / "agiqa.js").is_file())
        self.assertIn(("POST", "/agiqa/verdict"), prompt_server.routes.handlers)
        for node_id, node in module.NODE_CLASS_MAPPINGS.items():
            with self.subTest(node=node_id):
                inputs = node.INPUT_TYPES()
                self.assertIn("images", inputs["required"])
                self.assertEqual(len(node.RETURN_TYPES), len(node.RETURN_NAMES))
                self.assertTrue(callable(getattr(node(), node.FUNCTION)))
                self.assertEqual(node.CATEGORY, "AGIQA")


if __name__ == "__main__":
    unittest.main()
