"""Samples in the forms the web UIs hand them on become the same pixels the image hook sees."""

import unittest

import numpy as np
from PIL import Image

import a1111_test_support  # noqa: F401  (paths)
from agiqa_a1111.images import raw_frame, to_pil


def webui_image(chw):
    """What the generation loop makes of a decoded sample before `postprocess_image`."""
    return Image.fromarray((255.0 * np.moveaxis(chw, 0, 2)).astype(np.uint8))


class ToPil(unittest.TestCase):
    def setUp(self):
        rng = np.random.default_rng(7)
        self.chw = rng.random((3, 24, 40), dtype=np.float32)

    def test_numpy_channels_first_matches_the_webui_conversion(self):
        self.assertEqual(raw_frame(to_pil(self.chw)), raw_frame(webui_image(self.chw)))
        self.assertEqual(to_pil(self.chw).size, (40, 24))

    def test_torch_tensor_matches_the_webui_conversion(self):
        try:
            import torch
        except ImportError:
            self.skipTest("torch is not installed")
        self.assertEqual(raw_frame(to_pil(torch.from_numpy(self.chw))), raw_frame(webui_image(self.chw)))

    def test_uint8_channels_last_and_pil_pass_through(self):
        hwc = (self.chw.transpose(1, 2, 0) * 255).astype(np.uint8)
        self.assertEqual(np.asarray(to_pil(hwc)).tolist(), hwc.tolist())
        image = Image.fromarray(hwc)
        self.assertIs(to_pil(image), image)

    def test_a_raw_frame_is_the_pixels_with_their_layout(self):
        image = webui_image(self.chw)
        frame = raw_frame(image)
        self.assertEqual((frame.width, frame.height, frame.channels), (40, 24, 3))
        self.assertEqual(frame.data, np.asarray(image).tobytes())
        self.assertEqual(raw_frame(image.convert("L")).channels, 1)
        self.assertEqual(raw_frame(image.convert("RGBA")).channels, 4)
        self.assertEqual(raw_frame(image.convert("P")).channels, 3)  # other modes go as RGB


if __name__ == "__main__":
    unittest.main()
