"""Stand-in for ComfyUI's folder_paths: an output directory and the SaveImage naming scheme
(`<subfolder>/<name>_<counter:05>_.png`, counter = highest existing + 1 for that name)."""

import os
import re

_output_directory = os.path.join(os.getcwd(), "output")


def set_output_directory(path):
    global _output_directory
    _output_directory = path


def get_output_directory():
    return _output_directory


def get_save_image_path(filename_prefix, output_dir, image_width=0, image_height=0):
    filename_prefix = filename_prefix.replace("%width%", str(image_width)).replace("%height%", str(image_height))
    subfolder = os.path.dirname(os.path.normpath(filename_prefix))
    filename = os.path.basename(os.path.normpath(filename_prefix))
    full_output_folder = os.path.join(output_dir, subfolder)
    if os.path.commonpath((os.path.abspath(output_dir), os.path.abspath(full_output_folder))) != os.path.abspath(output_dir):
        raise Exception("Saving image outside the output folder is not allowed.")
    os.makedirs(full_output_folder, exist_ok=True)
    pattern = re.compile(re.escape(filename) + r"_(\d+)_?\.")
    counters = [int(match.group(1)) for name in os.listdir(full_output_folder) if (match := pattern.match(name))]
    counter = max(counters, default=0) + 1
    return full_output_folder, filename, counter, subfolder, filename_prefix
