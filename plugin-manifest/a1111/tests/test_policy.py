"""The accordion's settings and the batch rules, without a server."""

import unittest

import a1111_test_support  # noqa: F401  (paths)
from agiqa_a1111.client import Score
from agiqa_a1111.policy import MODE_DROP, MODE_REORDER, MODE_SCORE, Settings, judge, plan_batch


def score(mos, **aspects):
    full = {"quality": mos, "correspondence": None, "authenticity": None}
    full.update(aspects)
    return Score(mos=mos, level="fair", aspects=full, pack="lite 0.1.0")


class SettingsFromArgs(unittest.TestCase):
    def test_reads_the_ui_order(self):
        settings = Settings.from_args([True, "http://x:1", 3.0, 2.0, 1.5, 0, MODE_DROP, 2])
        self.assertEqual((settings.enabled, settings.url, settings.overall, settings.quality, settings.correspondence, settings.mode, settings.keep_at_least),
                         (True, "http://x:1", 3.0, 2.0, 1.5, MODE_DROP, 2))

    def test_missing_trailing_args_take_the_defaults(self):
        settings = Settings.from_args([True])
        self.assertEqual((settings.overall, settings.mode, settings.keep_at_least), (2.5, MODE_SCORE, 1))

    def test_reports_every_bad_value_at_once(self):
        with self.assertRaises(ValueError) as caught:
            Settings.from_args([True, "", 7, "high", 0, 0, "best", -1])
        message = str(caught.exception)
        for expected in ("overall threshold must be a number from 0 to 5 but received 7",
                         "quality threshold must be a number from 0 to 5 but received 'high'",
                         "mode must be one of", "received 'best'",
                         "keep at least must be a whole number ≥ 0 but received -1"):
            self.assertIn(expected, message)


class Judge(unittest.TestCase):
    def test_every_threshold_above_zero_must_be_met(self):
        settings = Settings(overall=2.5, quality=3.0)
        self.assertTrue(judge(score(3.2), settings).passed)
        verdict = judge(score(2.8), settings)
        self.assertFalse(verdict.passed)
        self.assertEqual(verdict.failures, ["quality 2.80 < 3.00"])

    def test_an_aspect_the_pack_did_not_judge_is_skipped_not_failed(self):
        self.assertTrue(judge(score(3.0), Settings(overall=2.5, correspondence=4.0)).passed)
        self.assertFalse(judge(score(3.0, correspondence=3.5), Settings(overall=2.5, correspondence=4.0)).passed)


class PlanBatch(unittest.TestCase):
    def test_score_only_keeps_the_batch(self):
        self.assertEqual(plan_batch([score(1), score(4)], Settings(mode=MODE_SCORE)), [0, 1])

    def test_reorder_puts_the_best_first_and_unscored_last(self):
        self.assertEqual(plan_batch([score(1), None, score(4), score(2)], Settings(mode=MODE_REORDER)), [2, 3, 0, 1])

    def test_reorder_keeps_ties_in_order(self):
        self.assertEqual(plan_batch([score(2), score(3), score(2)], Settings(mode=MODE_REORDER)), [1, 0, 2])

    def test_drop_keeps_passing_images_in_order_and_never_an_unscored_one_out(self):
        self.assertEqual(plan_batch([score(3), score(1), None, score(4)], Settings(mode=MODE_DROP, overall=2.5, keep_at_least=0)), [0, 2, 3])

    def test_drop_tops_up_with_the_best_failing_images(self):
        scores = [score(1.0), score(2.0), score(1.5), score(0.5)]
        self.assertEqual(plan_batch(scores, Settings(mode=MODE_DROP, overall=2.5, keep_at_least=2)), [1, 2])

    def test_drop_may_empty_a_batch_only_when_keep_at_least_is_zero(self):
        scores = [score(1.0), score(2.0)]
        self.assertEqual(plan_batch(scores, Settings(mode=MODE_DROP, overall=2.5, keep_at_least=0)), [])
        self.assertEqual(plan_batch(scores, Settings(mode=MODE_DROP, overall=2.5, keep_at_least=1)), [1])
        self.assertEqual(plan_batch(scores, Settings(mode=MODE_DROP, overall=2.5, keep_at_least=5)), [0, 1])


if __name__ == "__main__":
    unittest.main()
