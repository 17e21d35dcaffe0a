"""modules.scripts stand-in: Script, AlwaysVisible, the hook argument classes and a ScriptRunner that
calls always-on scripts with their slice of `p.script_args`, reporting (not raising) their errors."""

import importlib.util
import inspect
import os
import sys

from modules import errors

AlwaysVisible = object()


class PostprocessImageArgs:
    def __init__(self, image):
        self.image = image


class PostprocessBatchListArgs:
    def __init__(self, images):
        self.images = images


class Script:
    name = None
    section = None
    filename = None
    args_from = None
    args_to = None
    alwayson = False
    is_txt2img = False
    is_img2img = False
    tabname = None
    infotext_fields = None
    paste_field_names = None

    def title(self):
        raise NotImplementedError()

    def ui(self, is_img2img):
        pass

    def show(self, is_img2img):
        return True

    def run(self, p, *args):
        pass

    def setup(self, p, *args):
        pass

    def before_process(self, p, *args):
        pass

    def process(self, p, *args):
        pass

    def before_process_batch(self, p, *args, **kwargs):
        pass

    def process_batch(self, p, *args, **kwargs):
        pass

    def postprocess_batch(self, p, *args, **kwargs):
        pass

    def postprocess_batch_list(self, p, pp, *args, **kwargs):
        pass

    def postprocess_image(self, p, pp, *args):
        pass

    def postprocess(self, p, processed, *args):
        pass

    def elem_id(self, item_id):
        tabkind = "img2img" if self.is_img2img else "txt2img"
        return f"script_{tabkind}_{self.title().lower()}_{item_id}"


current_basedir = os.getcwd()


def basedir():
    return current_basedir


def load_script_classes(extension_dir):
    """Loads `<extension>/scripts/*.py` as the web UI does: the extension's folder is first on sys.path
    only while its files are loaded, and `basedir()` names it meanwhile."""
    global current_basedir
    found = []
    scripts_dir = os.path.join(extension_dir, "scripts")
    for filename in sorted(os.listdir(scripts_dir)):
        if not filename.endswith(".py"):
            continue
        path = os.path.join(scripts_dir, filename)
        saved_path = sys.path
        try:
            sys.path = [extension_dir] + sys.path
            current_basedir = extension_dir
            spec = importlib.util.spec_from_file_location(os.path.splitext(filename)[0], path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            for value in module.__dict__.values():
                if inspect.isclass(value) and issubclass(value, Script) and value is not Script:
                    found.append((value, path))
        finally:
            sys.path = saved_path
            current_basedir = os.getcwd()
    return found


class ScriptRunner:
    def __init__(self):
        self.scripts = []
        self.alwayson_scripts = []

    def add(self, script_class, path, is_img2img=False, args=()):
        """Instantiates an always-on script and gives it the next slice of the args (the UI's values)."""
        script = script_class()
        script.filename = path
        script.is_img2img = is_img2img
        script.is_txt2img = not is_img2img
        if script.show(is_img2img) is AlwaysVisible:
            script.alwayson = True
            self.alwayson_scripts.append(script)
        self.scripts.append(script)
        start = sum(len(s.args) for s in self.scripts[:-1])
        script.args = list(args)
        script.args_from, script.args_to = start + 1, start + 1 + len(args)
        return script

    def script_args(self):
        values = [None]  # position 0 is the selectable-script dropdown
        for script in self.scripts:
            values.extend(script.args)
        return values

    def _each(self, hook, p, *call_args, **kwargs):
        for script in self.alwayson_scripts:
            try:
                script_args = p.script_args[script.args_from:script.args_to]
                getattr(script, hook)(p, *call_args, *script_args, **kwargs)
            except Exception:
                errors.report(f"Error running {hook}: {script.filename}", exc_info=True)

    def before_process(self, p):
        self._each("before_process", p)

    def process(self, p):
        self._each("process", p)

    def before_process_batch(self, p, **kwargs):
        self._each("before_process_batch", p, **kwargs)

    def process_batch(self, p, **kwargs):
        self._each("process_batch", p, **kwargs)

    def postprocess_batch(self, p, images, **kwargs):
        for script in self.alwayson_scripts:
            try:
                script_args = p.script_args[script.args_from:script.args_to]
                script.postprocess_batch(p, *script_args, images=images, **kwargs)
            except Exception:
                errors.report(f"Error running postprocess_batch: {script.filename}", exc_info=True)

    def postprocess_batch_list(self, p, pp, **kwargs):
        self._each("postprocess_batch_list", p, pp, **kwargs)

    def postprocess_image(self, p, pp):
        self._each("postprocess_image", p, pp)

    def postprocess(self, p, processed):
        self._each("postprocess", p, processed)
