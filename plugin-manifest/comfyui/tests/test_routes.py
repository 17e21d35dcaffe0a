import asyncio
import json
import re
import unittest

from tests import support
from agiqa_nodes import register_routes
from agiqa_nodes.client import AgiqaClient, AgiqaError
from agiqa_nodes.routes import EVENT, LOOKUP_ROUTE, ROUTE, handle_lookup_body, validate_verdict

import server  # the stand-in PromptServer

# The example the bridge's docs give for the body of POST /agiqa/verdict (docs/comfyui-bridge.md).
VERDICT = {
    "prompt_id": "5e7b6a1c-9f0e-4d1b-8a44-1d0f3c2b9e77",
    "node": "9",
    "filename": "ComfyUI_00042_.png",
    "subfolder": "",
    "type": "output",
    "batch_index": 0,
    "rank": 1,
    "generation_id": 17,
    "verdict": "accept",
    "reasons": ["overall 3.41 meets every threshold"],
    "mos": 3.41,
    "level": "good",
    "aspects": {"quality": 3.41, "correspondence": None, "authenticity": None},
}


class FakeRequest:
    def __init__(self, body: bytes):
        self._body = body

    async def read(self):
        return self._body


class VerdictRouteTest(unittest.TestCase):
    def setUp(self):
        self.prompt_server = server.PromptServer()  # a fresh instance per test
        self.assertTrue(register_routes())
        self.handler = self.prompt_server.routes.handlers[("POST", ROUTE)]

    def post(self, body: bytes):
        response = asyncio.run(self.handler(FakeRequest(body)))
        return response.status, json.loads(response.text)

    def test_a_verdict_is_forwarded_to_every_browser(self):
        status, answer = self.post(json.dumps({**VERDICT, "future_field": 1}).encode())
        self.assertEqual(status, 200)
        self.assertEqual(answer, {"ok": True, "event": EVENT})
        self.assertEqual(len(self.prompt_server.sent), 1)
        event, data, sid = self.prompt_server.sent[0]
        self.assertEqual(event, "agiqa.score")
        self.assertIsNone(sid)
        self.assertEqual(data, VERDICT)  # unknown fields dropped, the rest as sent

    def test_a_single_image_has_rank_null(self):
        status, _ = self.post(json.dumps({**VERDICT, "rank": None}).encode())
        self.assertEqual(status, 200)

    def test_a_bad_body_is_400_with_every_problem_and_nothing_is_sent(self):
        cases = {
            b"not json": "not JSON",
            b"[1, 2]": "JSON object",
            json.dumps({**VERDICT, "verdict": "maybe", "mos": "high"}).encode(): 'verdict must be "accept" or "reject"; mos must be a number',
            json.dumps({k: v for k, v in VERDICT.items() if k != "filename"}).encode(): "filename must be a string",
            json.dumps({**VERDICT, "batch_index": -1, "rank": 0}).encode(): "batch_index must be a whole number",
            json.dumps({**VERDICT, "aspects": {"quality": "3"}}).encode(): "aspects must map",
            json.dumps({**VERDICT, "generation_id": True}).encode(): "generation_id must be a whole number",
        }
        for body, expected in cases.items():
            with self.subTest(body=body[:40]):
                status, answer = self.post(body)
                self.assertEqual(status, 400)
                self.assertEqual(answer["error"]["code"], "AGIQA_VERDICT_INVALID")
                self.assertIn(expected, answer["error"]["message"])
        self.assertEqual(self.prompt_server.sent, [])


class LookupRouteTest(unittest.TestCase):
    """POST /agiqa/verdicts: the browser's one request for the verdicts of the files it shows."""

    FILES = [{"filename": "ComfyUI_00042_.png", "subfolder": "", "type": "output"}, {"filename": "never.png"}]

    def test_stored_verdicts_come_back_in_the_badge_shape_and_unknown_files_as_null(self):
        asked = []

        def lookup(files):
            asked.append(files)
            return [{"generationId": 17, "rank": 1, "mos": 3.41, "level": "good", "verdict": {"verdict": "accept", "reasons": []}}, None]

        status, answer = handle_lookup_body(json.dumps({"files": self.FILES}).encode(), lookup)
        self.assertEqual(status, 200)
        self.assertEqual(asked, [[self.FILES[0], {"filename": "never.png", "subfolder": "", "type": "output"}]])
        self.assertEqual(
            answer["verdicts"][0],
            {**self.FILES[0], "generation_id": 17, "rank": 1, "mos": 3.41, "level": "good", "verdict": "accept", "image": None, "detections": []},
        )
        self.assertIsNone(answer["verdicts"][1])

    def test_the_detector_boxes_and_their_image_size_pass_through(self):
        dog = {"label": "dog", "score": 0.8, "box": {"x": 4, "y": 8, "width": 40, "height": 30}}

        def lookup(files):
            return [{"generationId": 3, "rank": None, "mos": 2.0, "level": "fair", "verdict": None, "image": {"width": 64, "height": 48}, "detections": [dog]}, None]

        status, answer = handle_lookup_body(json.dumps({"files": self.FILES}).encode(), lookup)
        self.assertEqual(status, 200)
        self.assertEqual(answer["verdicts"][0]["detections"], [dog])
        self.assertEqual(answer["verdicts"][0]["image"], {"width": 64, "height": 48})

    def test_a_bad_body_is_400_and_the_server_is_not_asked(self):
        def lookup(files):
            raise AssertionError("must not be asked")

        for body, expected in {b"[]": "files must be a list", json.dumps({"files": [{"filename": ""}, {"filename": "a", "type": 3}]}).encode(): "files[0].filename"}.items():
            status, answer = handle_lookup_body(body, lookup)
            self.assertEqual(status, 400)
            self.assertIn(expected, answer["error"]["message"])

    def test_no_server_is_503_with_the_command_to_start_it(self):
        def lookup(files):
            return AgiqaClient(url="http://127.0.0.1:9", retry_budget=0).verdicts(files)

        status, answer = handle_lookup_body(json.dumps({"files": self.FILES}).encode(), lookup)
        self.assertEqual(status, 503)
        self.assertIn("agiqa serve", answer["error"]["message"])

    def test_the_real_server_answers_null_for_a_file_it_never_scored(self):
        support.shared_server()
        self.assertEqual(AgiqaClient().verdicts([{"filename": "nobody.png", "subfolder": "", "type": "output"}]), [None])

    def test_the_route_is_registered(self):
        prompt_server = server.PromptServer()
        self.assertTrue(register_routes())
        self.assertIn(("POST", LOOKUP_ROUTE), prompt_server.routes.handlers)


class ContractTest(unittest.TestCase):
    def test_the_route_accepts_every_field_the_bridge_sends(self):
        """The fields of VerdictPush (the bridge's TypeScript) are exactly the ones validated here."""
        source = (support.REPO_ROOT / "src/bridges/comfyui/feedback.ts").read_text()
        body = re.search(r"export interface VerdictPush \{(.*?)\n\}", source, re.S).group(1)
        fields = set(re.findall(r"^\s+(\w+):", body, re.M))
        self.assertEqual(fields, set(VERDICT))
        self.assertEqual(set(validate_verdict(VERDICT)), fields)


if __name__ == "__main__":
    unittest.main()
