"""Synthetic distortions for the lite quality model.

Each distortion is a pure function `(ref: HxWx3 uint8, level: 1..5, rng: np.random.Generator) -> HxWx3
uint8`. Level 1 is meant to be mild but visible to an attentive viewer at 100% zoom, level 5 severe.
The strength tables are the only tuning knobs; they are listed in training/lite/README.md.
"""
import io

import numpy as np
from PIL import Image, ImageFilter

LEVELS = (1, 2, 3, 4, 5)


def _img(a):
    return Image.fromarray(a, "RGB")


def _u8(x):
    return np.clip(np.rint(x), 0, 255).astype(np.uint8)


_S = np.arange(256, dtype=np.float64) / 255.0
_LINEAR_LUT = np.where(_S <= 0.04045, _S / 12.92, ((_S + 0.055) / 1.055) ** 2.4).astype(np.float32)
_L = np.linspace(0.0, 1.0, 4097)
_SRGB_LUT = (np.where(_L <= 0.0031308, _L * 12.92, 1.055 * np.power(_L, 1 / 2.4) - 0.055) * 255.0
             ).astype(np.float32)


def _to_linear(a):
    return _LINEAR_LUT[a]


def _from_linear(x):
    # 4096-step table: finer than one 8-bit code except in the deepest shadows
    idx = (np.clip(x, 0.0, 1.0) * 4096.0 + 0.5).astype(np.int32)
    return _u8(_SRGB_LUT[idx])


def gaussian_blur(ref, level, rng):
    sigma = (0.8, 1.3, 2.0, 3.2, 5.0)[level - 1]
    return np.asarray(_img(ref).filter(ImageFilter.GaussianBlur(sigma)))


def motion_blur(ref, level, rng):
    length = (4, 7, 11, 17, 27)[level - 1]
    angle = rng.uniform(0, np.pi)
    h, w, _ = ref.shape
    pad = length
    src = np.pad(ref.astype(np.float32), ((pad, pad), (pad, pad), (0, 0)), mode="edge")
    acc = np.zeros((h, w, 3), np.float32)
    offsets = np.linspace(-(length - 1) / 2, (length - 1) / 2, length)
    for t in offsets:  # average of shifted copies along the motion line = line kernel
        dx, dy = int(round(t * np.cos(angle))), int(round(t * np.sin(angle)))
        acc += src[pad + dy:pad + dy + h, pad + dx:pad + dx + w]
    return _u8(acc / len(offsets))


def gaussian_noise(ref, level, rng):
    sigma = (5, 9, 15, 24, 38)[level - 1]
    return _u8(ref.astype(np.float32) + rng.normal(0, sigma, ref.shape).astype(np.float32))


def chroma_noise(ref, level, rng):
    """Coloured blotches like a phone sensor at high ISO: noise on Cb/Cr at half resolution."""
    sigma = (6, 11, 18, 28, 42)[level - 1]
    h, w, _ = ref.shape
    ycc = np.asarray(_img(ref).convert("YCbCr"), dtype=np.float32)
    for c in (1, 2):
        n = rng.normal(0, sigma, ((h + 1) // 2, (w + 1) // 2)).astype(np.float32)
        up = np.asarray(Image.fromarray(n, "F").resize((w, h), Image.BILINEAR))
        ycc[:, :, c] += up * 1.4  # bilinear upsampling lowers the variance; restore it roughly
    ycc[:, :, 0] += rng.normal(0, sigma * 0.25, (h, w)).astype(np.float32)
    return np.asarray(Image.fromarray(_u8(ycc), "YCbCr").convert("RGB"))


def _codec(ref, fmt, quality):
    buf = io.BytesIO()
    _img(ref).save(buf, fmt, quality=quality)
    buf.seek(0)
    return np.asarray(Image.open(buf).convert("RGB"))


def jpeg(ref, level, rng):
    return _codec(ref, "JPEG", (35, 22, 14, 8, 3)[level - 1])


# WebP quality band per level (issue 16: the single quality per level left gaps the model never saw);
# the quality is drawn uniformly inside the band, seeded per (reference, level).
WEBP_BANDS = ((22, 32), (11, 16), (5, 8), (2, 3), (0, 1))


def webp(ref, level, rng):
    lo, hi = WEBP_BANDS[level - 1]
    return _codec(ref, "WEBP", int(rng.integers(lo, hi + 1)))


def pixelation(ref, level, rng):
    f = (2, 3, 4, 6, 10)[level - 1]
    h, w, _ = ref.shape
    small = _img(ref).resize((max(1, w // f), max(1, h // f)), Image.BOX)
    return np.asarray(small.resize((w, h), Image.NEAREST))


def colour_cast(ref, level, rng):
    """Two mechanisms, drawn per (reference, level): a white-balance error (per-channel gains in linear light
    along a random direction orthogonal to grey) or a decoder-style tint (an offset of the Cb/Cr channels,
    what a mismatched VAE leaves: the whole picture, shadows included, shifted toward one hue)."""
    theta = rng.uniform(0, 2 * np.pi)
    if rng.uniform() < 0.5:
        m = (0.10, 0.18, 0.28, 0.40, 0.55)[level - 1]
        u = np.array([1, -1, 0], np.float32) / np.sqrt(2)
        v = np.array([1, 1, -2], np.float32) / np.sqrt(6)
        d = np.cos(theta) * u + np.sin(theta) * v
        lin = _to_linear(ref) * np.exp(m * d)[None, None, :]
        return _from_linear(lin)
    off = (6, 10, 16, 24, 34)[level - 1]
    ycc = np.asarray(_img(ref).convert("YCbCr"), dtype=np.float32)
    ycc[:, :, 1] += off * np.cos(theta)
    ycc[:, :, 2] += off * np.sin(theta)
    return np.asarray(Image.fromarray(_u8(ycc), "YCbCr").convert("RGB"))


def contrast_decrease(ref, level, rng):
    c = (0.70, 0.52, 0.38, 0.26, 0.15)[level - 1]
    x = ref.astype(np.float32)
    mean = x.mean(axis=(0, 1), keepdims=True)
    return _u8(mean + (x - mean) * c)


def over_exposure(ref, level, rng):
    gain = (1.5, 2.1, 3.0, 4.3, 6.5)[level - 1]
    return _from_linear(_to_linear(ref) * gain)


def under_exposure(ref, level, rng):
    gain = (0.6, 0.4, 0.25, 0.14, 0.07)[level - 1]
    return _from_linear(_to_linear(ref) * gain)


def over_sharpening(ref, level, rng):
    percent = (100, 180, 300, 450, 700)[level - 1]
    return np.asarray(_img(ref).filter(ImageFilter.UnsharpMask(radius=2, percent=percent, threshold=0)))


def posterisation(ref, level, rng):
    n = (16, 10, 6, 4, 2)[level - 1]
    lut = _u8(np.round(np.arange(256) / 255.0 * (n - 1)) / (n - 1) * 255.0)
    return lut[ref]


def upscaler_softness(ref, level, rng):
    """A low-resolution render enlarged by a plain bilinear/bicubic upscaler."""
    f = (1.6, 2.2, 3.0, 4.0, 5.5)[level - 1]
    h, w, _ = ref.shape
    small = _img(ref).resize((max(1, round(w / f)), max(1, round(h / f))), Image.BILINEAR)
    return np.asarray(small.resize((w, h), Image.BICUBIC))


def over_saturation(ref, level, rng):
    """"CFG burn": saturation and contrast pushed until colours clip (chroma scaled around each pixel's
    luma, then contrast around mid-grey, in sRGB)."""
    sat = (1.35, 1.65, 2.0, 2.5, 3.2)[level - 1]
    con = (1.06, 1.12, 1.2, 1.3, 1.45)[level - 1]
    x = ref.astype(np.float32)
    y = (0.299 * x[..., 0] + 0.587 * x[..., 1] + 0.114 * x[..., 2])[..., None]
    x = y + (x - y) * sat
    return _u8(127.5 + (x - 127.5) * con)


def washed_out(ref, level, rng):
    """Grey lift + low saturation (a wrong VAE or a missing tone curve): blacks lifted to `lift`, chroma
    scaled toward the pixel's luma."""
    lift = (18, 32, 50, 72, 100)[level - 1]
    sat = (0.85, 0.72, 0.58, 0.45, 0.32)[level - 1]
    x = ref.astype(np.float32)
    y = (0.299 * x[..., 0] + 0.587 * x[..., 1] + 0.114 * x[..., 2])[..., None]
    x = y + (x - y) * sat
    return _u8(lift + x * (255.0 - lift) / 255.0)


def banding(ref, level, rng):
    """Banding in smooth gradients: the smooth parts (skies, soft backgrounds) are replaced by a coarsely
    quantized version of their low-pass; textured parts keep their pixels (unlike posterisation, which
    quantizes everything)."""
    step = (8, 12, 18, 28, 44)[level - 1]
    base = np.asarray(_img(ref).filter(ImageFilter.GaussianBlur(2.0)), dtype=np.float32)
    x = ref.astype(np.float32)
    g = x.mean(axis=2)
    grad = np.zeros_like(g)
    grad[:, 1:] = np.abs(np.diff(g, axis=1))
    grad[1:, :] = np.maximum(grad[1:, :], np.abs(np.diff(g, axis=0)))
    grad = np.asarray(Image.fromarray(_u8(grad * 8.0), "L").filter(ImageFilter.BoxBlur(3)), np.float32) / 8.0
    w = np.exp(-((grad / 4.0) ** 2))[..., None]  # 1 in flat areas, ~0 at texture
    q = np.floor(base / step + 0.5) * step
    return _u8(x * (1 - w) + q * w)


def brightness_shift(ref, level, rng):
    """A brightness slider: a constant offset in sRGB, up or down (drawn per reference and level), with the
    clipping it causes. Distinct from the exposure types (gains in linear light)."""
    off = (14, 26, 42, 62, 90)[level - 1]
    sign = 1.0 if rng.uniform() < 0.5 else -1.0
    return _u8(ref.astype(np.float32) + sign * off)


DISTORTIONS = {
    "gaussian_blur": gaussian_blur,
    "motion_blur": motion_blur,
    "gaussian_noise": gaussian_noise,
    "chroma_noise": chroma_noise,
    "jpeg": jpeg,
    "webp": webp,
    "pixelation": pixelation,
    "colour_cast": colour_cast,
    "contrast_decrease": contrast_decrease,
    "over_exposure": over_exposure,
    "under_exposure": under_exposure,
    "over_sharpening": over_sharpening,
    "posterisation": posterisation,
    "upscaler_softness": upscaler_softness,
    # issue 16: the generation failures behind the weak types
    "over_saturation": over_saturation,
    "washed_out": washed_out,
    "banding": banding,
    "brightness_shift": brightness_shift,
}


def mos_for_level(level):
    """Synthetic MOS (a modelling choice, see README "Synthetic MOS"): 4.5 clean -> 0.5 at level 5."""
    return 4.5 - 0.8 * level
