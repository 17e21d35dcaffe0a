"""examples/agiqa-workflow.json is a UI-format workflow ComfyUI can load: its AGIQA nodes match the
node definitions (sockets, output types, widget values in order) and its links are consistent."""

import json
import unittest

from tests import support
from agiqa_nodes import NODE_CLASS_MAPPINGS

WIDGET_TYPES = {"INT", "FLOAT", "STRING", "BOOLEAN"}


def declared_inputs(node_class):
    spec = node_class.INPUT_TYPES()
    return [(name, definition) for section in ("required", "optional") for name, definition in spec.get(section, {}).items()]


def is_widget(definition):
    kind = definition[0]
    return isinstance(kind, list) or kind in WIDGET_TYPES


class ExampleWorkflowTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.workflow = json.loads((support.PACK / "examples" / "agiqa-workflow.json").read_text())
        cls.nodes = {node["id"]: node for node in cls.workflow["nodes"]}

    def test_it_uses_every_agiqa_node_after_a_ksampler(self):
        types = {node["type"] for node in self.workflow["nodes"]}
        self.assertTrue(set(NODE_CLASS_MAPPINGS) <= types)
        self.assertIn("KSampler", types)

    def test_agiqa_nodes_match_their_definitions(self):
        for node in self.workflow["nodes"]:
            node_class = NODE_CLASS_MAPPINGS.get(node["type"])
            if node_class is None:
                continue
            with self.subTest(node=node["type"]):
                inputs = declared_inputs(node_class)
                sockets = [(name, definition[0]) for name, definition in inputs if not is_widget(definition)]
                self.assertEqual([(entry["name"], entry["type"]) for entry in node["inputs"]], sockets)
                self.assertEqual(
                    [(entry["name"], entry["type"]) for entry in node["outputs"]],
                    list(zip(node_class.RETURN_NAMES, node_class.RETURN_TYPES)),
                )
                widgets = [definition for _, definition in inputs if is_widget(definition)]
                self.assertEqual(len(node["widgets_values"]), len(widgets))
                for value, definition in zip(node["widgets_values"], widgets):
                    if isinstance(definition[0], list):
                        self.assertIn(value, definition[0])
                    elif definition[0] in ("INT", "FLOAT"):
                        options = definition[1]
                        self.assertTrue(options["min"] <= value <= options["max"], (value, options))
                    else:
                        self.assertIsInstance(value, str)

    def test_links_are_consistent(self):
        self.assertEqual(self.workflow["last_link_id"], max(link[0] for link in self.workflow["links"]))
        for link_id, source, source_slot, target, target_slot, kind in self.workflow["links"]:
            with self.subTest(link=link_id):
                self.assertIn(link_id, self.nodes[source]["outputs"][source_slot]["links"])
                self.assertEqual(self.nodes[source]["outputs"][source_slot]["type"], kind)
                self.assertEqual(self.nodes[target]["inputs"][target_slot]["link"], link_id)
                self.assertEqual(self.nodes[target]["inputs"][target_slot]["type"], kind)

    def test_the_output_nodes_are_wired(self):
        outputs = [node for node in self.workflow["nodes"] if node["type"] in ("AGIQASaveWithScore", "PreviewImage", "SaveImage")]
        self.assertGreaterEqual(len(outputs), 2)
        for node in outputs:
            self.assertIsNotNone(node["inputs"][0]["link"], node["type"])


if __name__ == "__main__":
    unittest.main()
