"""modules.images stand-in: `save_image` writes a PNG carrying the infotext in the `parameters` text
chunk, the way the web UI saves samples; `image_grid` pastes the images side by side."""

import os

from PIL import Image, PngImagePlugin

saved = []  # paths, in save order


def save_image(image, path, basename, seed=None, prompt=None, extension="png", info=None, short_filename=False, no_prompt=False, grid=False, pnginfo_section_name="parameters", p=None, existing_info=None, forced_filename=None, suffix="", save_to_dirs=None):
    os.makedirs(path, exist_ok=True)
    name = forced_filename or f"{len(os.listdir(path)):05d}-{seed}{suffix}"
    fullpath = os.path.join(path, f"{name}.{extension}")
    pnginfo = PngImagePlugin.PngInfo()
    for key, value in (existing_info or {}).items():
        if isinstance(value, str):
            pnginfo.add_text(key, value)
    if info is not None:
        pnginfo.add_text(pnginfo_section_name, info)
    image.save(fullpath, format="PNG", pnginfo=pnginfo)
    saved.append(fullpath)
    return fullpath, None


def image_grid(imgs, batch_size=1, rows=None):
    width = sum(i.width for i in imgs)
    height = max(i.height for i in imgs)
    grid = Image.new("RGB", (width, height))
    x = 0
    for img in imgs:
        grid.paste(img, (x, 0))
        x += img.width
    return grid
