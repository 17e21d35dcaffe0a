"""predictor_ablation.py: which predictor measurement lite-ablation.json keeps as current and which as earlier.

    /usr/bin/python3 -m unittest discover -s training/lite -p 'test_predictor_ablation.py'
(test/training/lite-predictor-ablation.test.ts runs it under npm test.)
"""
import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from predictor_ablation import NOT_RETRAINED, eval_summary, measured_entry, predictor_sections  # noqa: E402

ENCODER = {"file": "quality.onnx", "sha256": "a" * 64}


def figures(srcc):
    return {"quality": {"n": 10, "srcc": srcc, "plcc": srcc, "plccLogistic": srcc, "krcc": srcc, "rmse": 0.7,
                        "rmseLogistic": 0.6}}


def trained_pack(sha=ENCODER["sha256"], winner="xlstm"):
    return {
        "name": "lite-m3", "version": "1.0.0+abc",
        "files": [{"path": "quality.onnx", "sha256": sha}, {"path": "predictor.onnx", "sha256": "b" * 64}],
        "predictor": {"kind": winner} if winner != "head" else None,
        "training": {"data": {"images": 30}, "split": {"counts": {"train": 10, "val": 10, "test": 10}}, "seed": 42,
                     "trainer": {"hyper": {"dropout": 0.2}}},
        "metrics": {"heldOut": {"split": "test", "candidate": winner, "aspects": figures(0.8)},
                    "ablation": {"selectedOn": "val", "winner": winner,
                                 "val": {"xlstm": figures(0.75), "mlp": figures(0.7), "head": figures(0.74)},
                                 "test": {"xlstm": figures(0.8), "mlp": figures(0.72), "head": figures(0.79)}}},
    }


def eval_report(srcc):
    q = {"n": 10, "srcc": srcc, "krcc": 0.612345, "plcc": 0.7, "rmse": 0.71, "plccLogistic": 0.75,
         "rmseLogistic": 0.69, "logistic": {"parameters": [1, 2, 3, 4, 5]}}
    return {"aspects": {"quality": q}, "predictions": []}


class MeasuredEntry(unittest.TestCase):
    def test_carries_the_ablation_the_evals_and_the_encoder(self):
        entry = measured_entry(trained_pack(), ENCODER, "--dropout 0.2", {"test": eval_report(0.80123456)}, None)
        self.assertEqual(entry["encoder"], ENCODER)
        self.assertEqual(entry["ablation"]["winner"], "xlstm")
        self.assertEqual(entry["ablation"]["val"]["head"]["quality"]["srcc"], 0.74)
        self.assertEqual(entry["ablation"]["heldOut"]["candidate"], "xlstm")
        self.assertEqual(entry["ablation"]["split"]["counts"]["test"], 10)
        self.assertEqual(entry["runtimeEval"]["test"]["srcc"], 0.8012)
        self.assertEqual(entry["runtimeEval"]["test"]["krcc"], 0.6123)
        self.assertNotIn("logistic", entry["runtimeEval"]["test"])
        self.assertNotIn("val", entry["runtimeEval"])
        self.assertIn("predictor)", entry["runtimeEval"]["measuredWith"])
        self.assertTrue(entry["status"].startswith("val SRCC xlstm 0.7500 > head 0.7400 > mlp 0.7000"), entry["status"])
        self.assertIn("pick: xlstm (selected on val). Measured only", entry["status"])

    def test_says_when_the_predictor_ships(self):
        entry = measured_entry(trained_pack(), ENCODER, "", {}, {"kind": "xlstm"})
        self.assertIn("Shipped in models/lite", entry["status"])
        self.assertNotIn("runtimeEval", entry)

    def test_refuses_a_pack_trained_on_another_encoder(self):
        with self.assertRaisesRegex(ValueError, "another quality.onnx"):
            measured_entry(trained_pack(sha="c" * 64), ENCODER, "", {}, None)

    def test_eval_summary_keeps_only_the_figures(self):
        self.assertEqual(set(eval_summary(eval_report(0.5))), {"n", "srcc", "plcc", "plccLogistic", "krcc", "rmse",
                                                               "rmseLogistic"})


class PredictorSections(unittest.TestCase):
    def setUp(self):
        self.old_measured = {"encoder": {"file": "quality.onnx", "sha256": "0" * 64}, "ablation": {"winner": "head"}}
        self.older = {"encoder": {"file": "quality.onnx", "sha256": "1" * 64}, "ablation": {"winner": "xlstm"}}

    def test_a_measurement_on_another_encoder_becomes_earlier(self):
        new = {"encoder": ENCODER, "ablation": {"winner": "xlstm"}}
        current, earlier = predictor_sections({"predictor": self.old_measured, "predictorEarlier": [self.older]},
                                              ENCODER["sha256"], new)
        self.assertIs(current, new)
        self.assertEqual(earlier, [self.old_measured, self.older])

    def test_without_a_new_measurement_the_one_on_this_encoder_stays(self):
        same = {"encoder": ENCODER, "ablation": {"winner": "xlstm"}}
        current, earlier = predictor_sections({"predictor": same, "predictorEarlier": [self.older]},
                                              ENCODER["sha256"], None)
        self.assertEqual(current, same)
        self.assertEqual(earlier, [self.older])

    def test_a_new_measurement_on_the_same_encoder_replaces_the_old_one(self):
        same = {"encoder": ENCODER, "ablation": {"winner": "head"}}
        new = {"encoder": ENCODER, "ablation": {"winner": "xlstm"}}
        current, earlier = predictor_sections({"predictor": same, "predictorEarlier": []}, ENCODER["sha256"], new)
        self.assertIs(current, new)
        self.assertEqual(earlier, [])

    def test_nothing_measured_on_a_new_encoder_says_so_and_keeps_history_once(self):
        old = {"predictor": self.old_measured, "predictorEarlier": [self.old_measured, self.older]}
        current, earlier = predictor_sections(old, ENCODER["sha256"], None)
        self.assertEqual(current, {"status": NOT_RETRAINED})
        self.assertEqual(earlier, [self.old_measured, self.older])

    def test_a_status_only_entry_is_not_history(self):
        current, earlier = predictor_sections({"predictor": {"status": NOT_RETRAINED}, "predictorEarlier": [self.older]},
                                              ENCODER["sha256"], None)
        self.assertEqual(current, {"status": NOT_RETRAINED})
        self.assertEqual(earlier, [self.older])

    def test_reads_the_file_before_issue_16(self):
        _, earlier = predictor_sections({"current": self.old_measured, "earlier": [self.older]}, ENCODER["sha256"], None)
        self.assertEqual(earlier, [self.old_measured, self.older])


if __name__ == "__main__":
    unittest.main()
