import unittest

import numpy as np
from tests import support  # noqa: F401  (paths)
from agiqa_nodes.tensors import Frames, image_to_pil, raw_frames, to_uint8, take, take_latent, take_mask, to_numpy

try:
    import torch
except ImportError:  # the pack never needs torch itself
    torch = None


class RawFramesTest(unittest.TestCase):
    def test_a_batch_becomes_the_8_bit_pixels_save_image_writes(self):
        images = np.zeros((2, 5, 7, 3), dtype=np.float32)
        images[..., 0] = 1.0
        images[1, 0, 0] = [0.5, 0.25, 2.0]  # out of range is clipped, like SaveImage
        frames = raw_frames(images)
        self.assertEqual((frames.dtype, frames.shape), (np.uint8, (2, 5, 7, 3)))
        self.assertTrue(frames.flags["C_CONTIGUOUS"])
        self.assertEqual(frames[1, 0, 0].tolist(), [127, 63, 255])
        self.assertEqual(frames[0, 1, 1].tolist(), [255, 0, 0])
        # The same pixels SaveImage's PIL image holds, so a frame scores like the saved file.
        np.testing.assert_array_equal(np.asarray(image_to_pil(images[1])), frames[1])

    def test_grey_and_alpha_frames_and_a_bad_channel_count(self):
        self.assertEqual(raw_frames(np.ones((1, 2, 2, 1), np.float32)).shape[3], 1)
        self.assertEqual(raw_frames(np.ones((1, 2, 2, 4), np.float32)).shape[3], 4)
        with self.assertRaisesRegex(ValueError, "1, 3 or 4 channels, got 2"):
            raw_frames(np.ones((1, 2, 2, 2), np.float32))
        with self.assertRaisesRegex(ValueError, "IMAGE batch"):
            raw_frames(np.ones((2, 2, 3), np.float32))


    def test_frames_convert_one_at_a_time_like_the_whole_batch_for_every_float_type(self):
        rng = np.random.default_rng(3)
        images = rng.uniform(-0.2, 1.2, size=(3, 9, 11, 3))
        for dtype in (np.float32, np.float16, np.float64):
            with self.subTest(dtype=dtype.__name__):
                batch = images.astype(dtype)
                frames = Frames(batch)
                self.assertEqual((frames.count, frames.height, frames.width, frames.channels, frames.frame_bytes), (3, 9, 11, 3, 297))
                for index in (2, 0, 1):  # in any order: the scratch frame holds nothing between calls
                    frame = frames.frame(index)
                    self.assertTrue(frame.flags["C_CONTIGUOUS"])
                    np.testing.assert_array_equal(frame, to_uint8(batch[index]))
        with self.assertRaisesRegex(ValueError, "1, 3 or 4 channels, got 5"):
            Frames(np.ones((1, 2, 2, 5), np.float32))

    def test_frames_in_range_skip_the_clip_and_still_match_save_image(self):
        rng = np.random.default_rng(4)
        # In range, out of range, in range again, and a NaN: the skipped clip changes no pixel.
        batch = np.stack([rng.random((6, 5, 3)), rng.uniform(-1, 2, (6, 5, 3)), rng.random((6, 5, 3)), rng.random((6, 5, 3))]).astype(np.float32)
        batch[0, 0, 0] = [1.0, 0.0, 0.999]
        batch[3, 1, 1, 1] = np.nan
        frames = Frames(batch)
        for index in range(4):
            with self.subTest(frame=index):
                np.testing.assert_array_equal(frames.frame(index), to_uint8(batch[index]))
        self.assertEqual(frames.frame(0)[0, 0].tolist(), [255, 0, 254])


class SelectionTest(unittest.TestCase):
    def test_take_reorders_and_may_be_empty(self):
        array = np.arange(4 * 2, dtype=np.float32).reshape(4, 2)
        np.testing.assert_array_equal(take(array, [2, 0]), array[[2, 0]])
        self.assertEqual(take(array, []).shape, (0, 2))

    def test_latent_samples_noise_mask_and_batch_index_follow(self):
        latent = {"samples": np.arange(3, dtype=np.float32).reshape(3, 1, 1, 1), "noise_mask": np.arange(3.0).reshape(3, 1, 1), "batch_index": [7, 8, 9], "other": "kept"}
        selected = take_latent(latent, [2, 0], 3)
        self.assertEqual(selected["samples"].ravel().tolist(), [2.0, 0.0])
        self.assertEqual(selected["noise_mask"].ravel().tolist(), [2.0, 0.0])
        self.assertEqual(selected["batch_index"], [9, 7])
        self.assertEqual(selected["other"], "kept")
        with self.assertRaisesRegex(ValueError, "LATENT batch \\(3\\) does not match the IMAGE batch \\(2\\)"):
            take_latent(latent, [0], 2)

    def test_a_shared_mask_is_kept_and_a_per_image_mask_follows(self):
        shared = np.ones((1, 4, 4), np.float32)
        self.assertIs(take_mask(shared, [1, 0], 2), shared)
        per_image = np.arange(2, dtype=np.float32).reshape(2, 1, 1) * np.ones((2, 4, 4), np.float32)
        self.assertEqual(take_mask(per_image, [1], 2)[:, 0, 0].tolist(), [1.0])
        with self.assertRaises(ValueError):
            take_mask(np.ones((3, 4, 4)), [0], 2)

    @unittest.skipIf(torch is None, "torch is not installed")
    def test_torch_tensors_stay_torch_tensors(self):
        tensor = torch.arange(6, dtype=torch.float32).reshape(3, 2)
        selected = take(tensor, [2, 1])
        self.assertTrue(isinstance(selected, torch.Tensor))
        self.assertEqual(selected.tolist(), [[4.0, 5.0], [2.0, 3.0]])
        self.assertEqual(tuple(take(tensor, []).shape), (0, 2))
        image = torch.zeros((1, 3, 3, 3))
        self.assertEqual(to_numpy(image).shape, (1, 3, 3, 3))
        self.assertEqual(raw_frames(image).dtype, np.uint8)


if __name__ == "__main__":
    unittest.main()
