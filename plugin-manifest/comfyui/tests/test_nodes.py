"""The nodes against a real `agiqa serve` (started once for the run by support.shared_server)."""

import json
import os
import shutil
import tempfile
import unittest

import numpy as np
from PIL import Image

from tests import support
from agiqa_nodes.nodes import AGIQAFilter, AGIQARank, AGIQASaveWithScore, AGIQAScore
from agiqa_nodes.scoring import NOT_JUDGED

import folder_paths  # stand-in
from comfy.cli_args import args as comfy_args  # stand-in
from comfy.model_management import InterruptProcessingException  # stand-in
from comfy_execution.graph_utils import ExecutionBlocker  # stand-in
from comfy_execution.utils import CurrentNodeContext  # stand-in
from server import PromptServer  # stand-in

# An API-format graph like the one ComfyUI hands a node as its hidden PROMPT input.
GRAPH = {
    "3": {"class_type": "KSampler", "inputs": {"seed": 1, "steps": 20, "cfg": 7, "sampler_name": "euler", "scheduler": "normal", "denoise": 1, "model": ["4", 0], "positive": ["6", 0], "negative": ["7", 0], "latent_image": ["5", 0]}},
    "6": {"class_type": "CLIPTextEncode", "inputs": {"text": "a cup of coffee on a saucer", "clip": ["4", 1]}},
    "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "blurry", "clip": ["4", 1]}},
}
WORKFLOW = {"last_node_id": 9, "nodes": [{"id": 3, "type": "KSampler"}], "links": [], "version": 0.4}


def setUpModule():
    support.shared_server()


class ScoreTest(unittest.TestCase):
    def test_a_sharp_photo_outscores_its_blurred_copy(self):
        node = AGIQAScore()
        sharp = node.score(support.batch([support.photo("coffee.png")]), prompt="a cup of coffee")
        blurry = node.score(support.batch([support.photo("coffee-blurred.png")]), prompt="a cup of coffee")
        sharp_mos, quality, correspondence, authenticity, text = sharp["result"]
        self.assertGreater(quality, blurry["result"][1] + 0.5)
        self.assertGreater(sharp_mos, blurry["result"][0])
        self.assertTrue(1.0 <= sharp_mos <= 5.0)
        # The lite pack judges quality, and correspondence from object checks: the prompt's cup is found.
        self.assertGreater(correspondence, 4.0)
        self.assertAlmostEqual(sharp_mos, (quality + correspondence) / 2, places=2)
        self.assertEqual(authenticity, NOT_JUDGED)
        self.assertIn(f"authenticity = {NOT_JUDGED:g}", text)
        self.assertIn("blur", blurry["result"][4])  # the finding is in the report
        self.assertEqual(sharp["ui"]["agiqa"][0]["aspects"]["authenticity"], None)
        self.assertEqual(sharp["ui"]["text"], [text])

    def test_a_batch_is_scored_in_order_and_the_floats_are_its_mean(self):
        images = support.batch([support.photo("coffee-blurred.png"), support.photo("coffee.png")])
        result = AGIQAScore().score(images)
        per_image = [item["mos"] for item in result["ui"]["agiqa"]]
        self.assertGreater(per_image[1], per_image[0])
        self.assertAlmostEqual(result["result"][0], sum(per_image) / 2, places=2)
        self.assertTrue(result["result"][4].startswith("2 images, mean MOS"))

    def test_without_a_prompt_the_server_reads_it_from_the_graph(self):
        result = AGIQAScore().score(support.batch([support.photo("chelsea.png")]), graph=GRAPH)
        self.assertIn("prompt: a cup of coffee on a saucer", result["result"][4])
        # Stored with the recovered prompt, so the history finds it by its text.
        generation = support.get_json(f"/v1/generations/{result['ui']['agiqa'][0]['generation_id']}")
        self.assertEqual((generation["prompt"], generation["promptSource"]), ("a cup of coffee on a saucer", "embedded"))

    def test_the_tensors_travel_as_raw_frames_not_png(self):
        image = support.photo("coffee.png")
        result = AGIQAScore().score(support.batch([image]), prompt="a cup of coffee")
        generation = support.get_json(f"/v1/generations/{result['ui']['agiqa'][0]['generation_id']}")
        self.assertEqual(generation["source"], "comfyui-node")
        self.assertEqual(generation["scores"][0]["result"]["image"]["format"], "raw")
        self.assertEqual(generation["image"]["bytes"], image.shape[0] * image.shape[1] * 3)


    def test_the_generations_carry_the_comfyui_prompt_and_node_ids(self):
        images = support.batch([support.blurred("coffee.png", 1.25), support.blurred("coffee.png", 2.25)])  # in no other test: not stored yet
        # ComfyUI runs a node's function inside the context that names its prompt and node.
        with CurrentNodeContext("prompt-5e1d", "17"):
            AGIQARank().rank(images, prompt="a cup of coffee", top_k=1, unique_id="17")
        found = support.get_json("/v1/generations?promptId=prompt-5e1d&node=17")["generations"]
        self.assertEqual(len(found), 2)
        self.assertEqual({(g["external"]["promptId"], g["external"]["node"]) for g in found}, {("prompt-5e1d", "17")})
        # Without that context (an older ComfyUI), the prompt that PromptServer started last is taken.
        PromptServer.instance.last_prompt_id = "prompt-older"
        try:
            score = AGIQAScore().score(support.batch([support.blurred("coffee.png", 3.25)]), prompt="a cup of coffee", unique_id="4")
        finally:
            PromptServer.instance.last_prompt_id = None
        generation = support.get_json(f"/v1/generations/{score['ui']['agiqa'][0]['generation_id']}")
        self.assertEqual(generation["external"], {"promptId": "prompt-older", "node": "4", "filename": None})


class FilterTest(unittest.TestCase):
    def run_filter(self, images, **options):
        latent, mask = support.latent_for(images), support.mask_for(images)
        return AGIQAFilter().filter(images, latent=latent, mask=mask, prompt="a cup of coffee", **options)

    def test_passing_and_rejected_split_with_latents_and_masks_in_step(self):
        images = support.coffee_batch()
        scores = AGIQAScore().score(images)["ui"]["agiqa"]
        threshold = (scores[0]["mos"] + scores[3]["mos"]) / 2  # between the sharpest and the most blurred
        result = self.run_filter(images, overall_threshold=threshold, keep_at_least=0)["result"]
        passing_images, passing_latent, passing_mask, rejected_images, rejected_latent, rejected_mask, indices, text = result
        passed = [int(index) for index in indices.split(",")]
        self.assertIn(0, passed)
        self.assertNotIn(3, passed)
        rejected = [index for index in range(4) if index not in passed]
        np.testing.assert_array_equal(passing_images, images[passed])
        np.testing.assert_array_equal(rejected_images, images[rejected])
        self.assertEqual(passing_latent["samples"][:, 0, 0, 0].tolist(), [float(index) for index in passed])
        self.assertEqual(passing_latent["batch_index"], [100 + index for index in passed])
        self.assertEqual(rejected_latent["samples"][:, 0, 0, 0].tolist(), [float(index) for index in rejected])
        self.assertEqual(np.round(passing_mask[:, 0, 0] * 10).tolist(), [float(index) for index in passed])
        self.assertEqual(np.round(rejected_mask[:, 0, 0] * 10).tolist(), [float(index) for index in rejected])
        self.assertIn("#3 rejected: overall", text)

    def test_keep_at_least_promotes_the_best_rejected_images(self):
        images = support.coffee_batch()
        result = self.run_filter(images, overall_threshold=5.0, keep_at_least=2)
        passing_images, passing_latent, _, rejected_images, _, _, indices, text = result["result"]
        self.assertEqual(indices, "0,1")  # the two sharpest, in batch order
        self.assertEqual(passing_images.shape[0], 2)
        self.assertEqual(rejected_images.shape[0], 2)
        self.assertEqual(passing_latent["samples"].shape[0], 2)
        self.assertIn("kept to keep at least 2", text)
        self.assertEqual(result["ui"]["agiqa_passing"], [0, 1])
        # The badges show the node's decision, not the server policy's.
        self.assertEqual([item["verdict"] for item in result["ui"]["agiqa"]], ["accept", "accept", "reject", "reject"])

    def test_nothing_passing_skips_what_follows_without_an_error(self):
        images = support.coffee_batch()
        result = self.run_filter(images, overall_threshold=5.0, keep_at_least=0)["result"]
        for output in result[:3]:
            self.assertIsInstance(output, ExecutionBlocker)
            self.assertIsNone(output.message)  # silent: ComfyUI skips the nodes, no error
        self.assertEqual(result[3].shape[0], 4)
        self.assertEqual(result[6], "")
        self.assertIn("0 of 4 pass: none", result[7])

    def test_nothing_passing_can_stop_the_run_quietly(self):
        with self.assertRaises(InterruptProcessingException) as raised:
            self.run_filter(support.coffee_batch(), overall_threshold=5.0, keep_at_least=0, if_none_pass="stop the run")
        self.assertIn("no image met the thresholds", str(raised.exception))

    def test_an_unjudged_aspect_threshold_is_skipped_not_failed(self):
        images = support.batch([support.photo("coffee.png")])
        result = AGIQAFilter().filter(images, overall_threshold=1.0, correspondence_threshold=4.5, keep_at_least=0)
        self.assertEqual(result["result"][6], "0")
        self.assertIn("correspondence threshold skipped", result["result"][7])
        self.assertIsInstance(result["result"][1], ExecutionBlocker)  # no latent connected
        self.assertIn("no latent is connected", result["result"][1].message)

    def test_a_latent_from_another_batch_is_refused_before_scoring(self):
        images = support.coffee_batch()
        with self.assertRaisesRegex(ValueError, "LATENT batch \\(2\\) does not match the IMAGE batch \\(4\\)"):
            AGIQAFilter().filter(images, latent=support.latent_for(images[:2]))


class RankTest(unittest.TestCase):
    def test_top_k_reorders_images_latents_and_masks_together(self):
        images = support.coffee_batch()
        shuffled = [2, 3, 0, 1]  # worse ones first
        images = images[shuffled]
        latent, mask = support.latent_for(images), support.mask_for(images)
        result = AGIQARank().rank(images, top_k=3, latent=latent, mask=mask)
        ranked_images, ranked_latent, ranked_mask, indices, text = result["result"]
        self.assertEqual(indices, "2,3,0")  # sharp, lightly blurred, the repo's blurred copy
        np.testing.assert_array_equal(ranked_images, images[[2, 3, 0]])
        self.assertEqual(ranked_latent["samples"][:, 0, 0, 0].tolist(), [2.0, 3.0, 0.0])
        self.assertEqual(ranked_latent["batch_index"], [102, 103, 100])
        self.assertEqual(np.round(ranked_mask[:, 0, 0] * 10).tolist(), [2.0, 3.0, 0.0])
        self.assertEqual(result["ui"]["agiqa_order"], [2, 3, 0, 1])
        self.assertEqual([item["rank"] for item in result["ui"]["agiqa"]], [3, 4, 1, 2])
        self.assertTrue(text.startswith("top 3 of 4, best first: 2,3,0"))


class TorchTensorTest(unittest.TestCase):
    """ComfyUI hands the nodes torch tensors; they come back as torch tensors."""

    def setUp(self):
        try:
            import torch
        except ImportError:
            self.skipTest("torch is not installed")
        self.torch = torch

    def test_rank_and_filter_take_and_return_torch_tensors(self):
        torch = self.torch
        images = torch.from_numpy(support.coffee_batch()[[3, 0]].copy())  # worst first
        latent = {"samples": torch.arange(2, dtype=torch.float32).reshape(2, 1, 1, 1).repeat(1, 4, 8, 8)}
        mask = torch.stack([torch.zeros(400, 600), torch.ones(400, 600)])
        ranked_images, ranked_latent, ranked_mask, indices, _ = AGIQARank().rank(images, top_k=2, latent=latent, mask=mask)["result"]
        self.assertEqual(indices, "1,0")
        self.assertIsInstance(ranked_images, torch.Tensor)
        self.assertTrue(torch.equal(ranked_images, images[[1, 0]]))
        self.assertEqual(ranked_latent["samples"][:, 0, 0, 0].tolist(), [1.0, 0.0])
        self.assertEqual(ranked_mask[:, 0, 0].tolist(), [1.0, 0.0])
        passing = AGIQAFilter().filter(images, overall_threshold=2.5, keep_at_least=0)["result"]
        self.assertIsInstance(passing[0], torch.Tensor)
        self.assertEqual(passing[6], "1")


class SaveTest(unittest.TestCase):
    def setUp(self):
        self.output = tempfile.mkdtemp(prefix="agiqa-comfy-output-")
        folder_paths.set_output_directory(self.output)
        self.addCleanup(shutil.rmtree, self.output, True)

    def test_saves_keep_comfyui_metadata_and_add_the_scores(self):
        images = support.batch([support.photo("coffee.png"), support.photo("coffee-blurred.png")])
        result = AGIQASaveWithScore().save(images, filename_prefix="agiqa/run_[score]", prompt="a cup of coffee", graph=GRAPH, extra_pnginfo={"workflow": WORKFLOW})
        saved = result["ui"]["images"]
        self.assertEqual(len(saved), 2)
        scores = result["ui"]["agiqa"]
        for entry, score in zip(saved, scores):
            self.assertEqual(entry["subfolder"], "agiqa")
            self.assertEqual(entry["type"], "output")
            self.assertEqual(entry["filename"], f"run_{score['mos']:.2f}_00001_.png")
            with Image.open(os.path.join(self.output, "agiqa", entry["filename"])) as png:
                self.assertEqual(json.loads(png.text["prompt"]), GRAPH)
                self.assertEqual(json.loads(png.text["workflow"]), WORKFLOW)
                stored = json.loads(png.text["agiqa"])
                self.assertEqual(stored["mos"], score["mos"])
                self.assertEqual(png.text["agiqa_mos"], f"{score['mos']:.2f}")
                self.assertEqual(set(stored["aspects"]), {"quality", "correspondence", "authenticity"})
                self.assertEqual(png.size, (600, 400))
        self.assertGreater(scores[0]["mos"], scores[1]["mos"])
        # Each file is linked to its generation, so the server's history says where it went.
        for entry, score in zip(saved, scores):
            generation = support.get_json(f"/v1/generations/{score['generation_id']}")
            self.assertEqual(generation["external"]["filename"], entry["filename"])
            self.assertEqual(generation["image"]["file"], f"agiqa/{entry['filename']}")

    def test_a_plain_prefix_counts_up_like_save_image_and_respects_disable_metadata(self):
        images = support.batch([support.photo("chelsea.png"), support.photo("chelsea-noisy.png")])
        comfy_args.disable_metadata = True
        self.addCleanup(setattr, comfy_args, "disable_metadata", False)
        first = AGIQASaveWithScore().save(images, filename_prefix="cat", graph=GRAPH, extra_pnginfo={"workflow": WORKFLOW})
        second = AGIQASaveWithScore().save(images[:1], filename_prefix="cat", graph=GRAPH)
        names = [entry["filename"] for entry in first["ui"]["images"] + second["ui"]["images"]]
        self.assertEqual(names, ["cat_00001_.png", "cat_00002_.png", "cat_00003_.png"])
        with Image.open(os.path.join(self.output, "cat_00001_.png")) as png:
            self.assertNotIn("prompt", png.text)
            self.assertNotIn("workflow", png.text)
            self.assertIn("agiqa", png.text)


if __name__ == "__main__":
    unittest.main()
