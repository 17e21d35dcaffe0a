"""modules.processing stand-in: StableDiffusionProcessing's run lists, Processed, create_infotext and
the order in which process_images calls the script hooks and builds each image's infotext (A1111 1.10 /
Forge). The sampler is `shared.sd_model(prompt, seed) -> PIL image`; samples reach the scripts as
decoded tensors (channels first, floats 0–1) as in the web UI, torch when it is installed."""

import json

import numpy as np
from PIL import Image

from modules import errors, face_restoration, images, infotext_utils, shared
from modules import scripts as scripts_module

try:
    import torch
except ImportError:  # the extension must also cope with numpy samples (some forks)
    torch = None


class StableDiffusionProcessing:
    def __init__(self, prompt="", negative_prompt="", seed=-1, subseed=-1, subseed_strength=0, batch_size=1, n_iter=1, steps=20, cfg_scale=7.0, width=64, height=64, sampler_name="Euler a", outpath_samples=None, outpath_grids=None, extra_generation_params=None, do_not_save_samples=False, do_not_save_grid=True, restore_faces=False, styles=None):
        self.prompt = prompt
        self.negative_prompt = negative_prompt
        self.seed = seed
        self.subseed = subseed
        self.subseed_strength = subseed_strength
        self.batch_size = batch_size
        self.n_iter = n_iter
        self.steps = steps
        self.cfg_scale = cfg_scale
        self.width = width
        self.height = height
        self.sampler_name = sampler_name
        self.outpath_samples = outpath_samples
        self.outpath_grids = outpath_grids
        self.extra_generation_params = extra_generation_params or {}
        self.do_not_save_samples = do_not_save_samples
        self.do_not_save_grid = do_not_save_grid
        self.restore_faces = restore_faces
        self.styles = styles or []
        self.comments = {}
        self.scripts = None
        self.script_args = []
        self.all_prompts = self.all_negative_prompts = self.all_seeds = self.all_subseeds = None
        self.prompts = self.negative_prompts = self.seeds = self.subseeds = None
        self.main_prompt = self.main_negative_prompt = None
        self.iteration = 0
        self.batch_index = 0
        self.sd_model_name = "stand-in"
        self.sd_model_hash = "0123456789"
        self.user = None
        self.tiling = False
        self.is_using_inpainting_conditioning = False

    def comment(self, text):
        self.comments[text] = 1

    def setup_prompts(self):
        if isinstance(self.prompt, list):
            self.all_prompts = self.prompt
        else:
            self.all_prompts = self.batch_size * self.n_iter * [self.prompt]
        if isinstance(self.negative_prompt, list):
            self.all_negative_prompts = self.negative_prompt
        else:
            self.all_negative_prompts = [self.negative_prompt] * len(self.all_prompts)
        self.main_prompt = self.all_prompts[0]
        self.main_negative_prompt = self.all_negative_prompts[0]

    def save_samples(self):
        return shared.opts.samples_save and not self.do_not_save_samples

    def sample(self, conditioning, unconditional_conditioning, seeds, subseeds, subseed_strength, prompts):
        return [shared.sd_model(prompt, seed) for prompt, seed in zip(prompts, seeds)]


class StableDiffusionProcessingTxt2Img(StableDiffusionProcessing):
    pass


class Processed:
    def __init__(self, p, images_list, seed=-1, info="", subseed=None, all_prompts=None, all_negative_prompts=None, all_seeds=None, all_subseeds=None, index_of_first_image=0, infotexts=None, comments=""):
        self.images = images_list
        self.prompt = p.prompt
        self.negative_prompt = p.negative_prompt
        self.seed = seed
        self.subseed = subseed
        self.info = info
        self.comments = "".join(f"{comment}\n" for comment in p.comments)
        self.width = p.width
        self.height = p.height
        self.batch_size = p.batch_size
        self.extra_generation_params = p.extra_generation_params
        self.index_of_first_image = index_of_first_image
        self.all_prompts = all_prompts or p.all_prompts or [self.prompt]
        self.all_negative_prompts = all_negative_prompts or p.all_negative_prompts or [self.negative_prompt]
        self.all_seeds = all_seeds or p.all_seeds or [self.seed]
        self.all_subseeds = all_subseeds or p.all_subseeds or [self.subseed]
        self.infotexts = infotexts or [info] * len(images_list)

    def js(self):
        obj = {
            "prompt": self.all_prompts[0],
            "all_prompts": self.all_prompts,
            "negative_prompt": self.all_negative_prompts[0],
            "all_negative_prompts": self.all_negative_prompts,
            "seed": self.seed,
            "all_seeds": self.all_seeds,
            "subseed": self.subseed,
            "all_subseeds": self.all_subseeds,
            "extra_generation_params": self.extra_generation_params,
            "index_of_first_image": self.index_of_first_image,
            "infotexts": self.infotexts,
        }
        return json.dumps(obj, default=lambda o: None)

    def infotext(self, p, index):
        return create_infotext(p, self.all_prompts, self.all_seeds, self.all_subseeds, comments=[], position_in_batch=index % self.batch_size, iteration=index // self.batch_size)


def create_infotext(p, all_prompts, all_seeds, all_subseeds, comments=None, iteration=0, position_in_batch=0, use_main_prompt=False, index=None, all_negative_prompts=None):
    if use_main_prompt:
        index = 0
    elif index is None:
        index = position_in_batch + iteration * p.batch_size
    if all_negative_prompts is None:
        all_negative_prompts = p.all_negative_prompts

    prompt_text = p.main_prompt if use_main_prompt else all_prompts[index]
    negative_prompt = p.main_negative_prompt if use_main_prompt else all_negative_prompts[index]

    generation_params = {
        "Steps": p.steps,
        "Sampler": p.sampler_name,
        "CFG scale": p.cfg_scale,
        "Seed": p.all_seeds[0] if use_main_prompt else all_seeds[index],
        "Size": f"{p.width}x{p.height}",
        "Model hash": p.sd_model_hash if shared.opts.add_model_hash_to_info else None,
        "Model": p.sd_model_name if shared.opts.add_model_name_to_info else None,
        "Variation seed": (None if p.subseed_strength == 0 else (p.all_subseeds[0] if use_main_prompt else all_subseeds[index])),
        "Variation seed strength": (None if p.subseed_strength == 0 else p.subseed_strength),
        **p.extra_generation_params,
        "Version": None,
        "User": p.user if shared.opts.add_user_name_to_info else None,
    }

    for key, value in generation_params.items():
        try:
            if isinstance(value, list):
                generation_params[key] = value[index]
            elif callable(value):
                generation_params[key] = value(**locals())
        except Exception:
            errors.report(f'Error creating infotext for key "{key}"', exc_info=True)
            generation_params[key] = None

    generation_params_text = ", ".join([k if k == v else f"{k}: {infotext_utils.quote(v)}" for k, v in generation_params.items() if v is not None])

    negative_prompt_text = f"\nNegative prompt: {negative_prompt}" if negative_prompt else ""

    return f"{prompt_text}{negative_prompt_text}\n{generation_params_text}".strip()


def _decoded(picture):
    """A picture as the VAE decode hands it on: channels first, floats in 0–1."""
    array = np.moveaxis(np.asarray(picture.convert("RGB"), dtype=np.float32) / 255.0, 2, 0)
    return torch.from_numpy(array) if torch is not None else array


def _as_numpy(x_sample):
    return x_sample.cpu().numpy() if hasattr(x_sample, "cpu") else np.asarray(x_sample)


def process_images(p):
    if p.scripts is not None:
        p.scripts.before_process(p)
    return process_images_inner(p)


def process_images_inner(p):
    seed = p.seed if p.seed != -1 else 1234
    subseed = p.subseed if p.subseed != -1 else 5678
    p.setup_prompts()
    p.all_seeds = [int(seed) + (x if p.subseed_strength == 0 else 0) for x in range(len(p.all_prompts))]
    p.all_subseeds = [int(subseed) + x for x in range(len(p.all_prompts))]

    if p.scripts is not None:
        p.scripts.process(p)

    infotexts = []
    output_images = []

    for n in range(p.n_iter):
        p.iteration = n
        if shared.state.interrupted:
            break

        p.prompts = p.all_prompts[n * p.batch_size:(n + 1) * p.batch_size]
        p.negative_prompts = p.all_negative_prompts[n * p.batch_size:(n + 1) * p.batch_size]
        p.seeds = p.all_seeds[n * p.batch_size:(n + 1) * p.batch_size]
        p.subseeds = p.all_subseeds[n * p.batch_size:(n + 1) * p.batch_size]

        if p.scripts is not None:
            p.scripts.before_process_batch(p, batch_number=n, prompts=p.prompts, seeds=p.seeds, subseeds=p.subseeds)
        if len(p.prompts) == 0:
            break
        if p.scripts is not None:
            p.scripts.process_batch(p, batch_number=n, prompts=p.prompts, seeds=p.seeds, subseeds=p.subseeds)

        pictures = p.sample(conditioning=None, unconditional_conditioning=None, seeds=p.seeds, subseeds=p.subseeds, subseed_strength=p.subseed_strength, prompts=p.prompts)
        x_samples_ddim = [_decoded(picture) for picture in pictures]

        if p.scripts is not None:
            p.scripts.postprocess_batch(p, x_samples_ddim, batch_number=n)

            p.prompts = p.all_prompts[n * p.batch_size:(n + 1) * p.batch_size]
            p.negative_prompts = p.all_negative_prompts[n * p.batch_size:(n + 1) * p.batch_size]

            batch_params = scripts_module.PostprocessBatchListArgs(list(x_samples_ddim))
            p.scripts.postprocess_batch_list(p, batch_params, batch_number=n)
            x_samples_ddim = batch_params.images

        def infotext(index=0, use_main_prompt=False):
            return create_infotext(p, p.prompts, p.seeds, p.subseeds, use_main_prompt=use_main_prompt, index=index, all_negative_prompts=p.negative_prompts)

        save_samples = p.save_samples()

        for i, x_sample in enumerate(x_samples_ddim):
            p.batch_index = i

            x_sample = 255. * np.moveaxis(_as_numpy(x_sample), 0, 2)
            x_sample = x_sample.astype(np.uint8)

            if p.restore_faces:
                x_sample = face_restoration.restore_faces(x_sample)

            image = Image.fromarray(x_sample)

            if p.scripts is not None:
                pp = scripts_module.PostprocessImageArgs(image)
                p.scripts.postprocess_image(p, pp)
                image = pp.image

            if save_samples:
                images.save_image(image, p.outpath_samples, "", p.seeds[i], p.prompts[i], shared.opts.samples_format, info=infotext(i), p=p)

            text = infotext(i)
            infotexts.append(text)
            if shared.opts.enable_pnginfo:
                image.info["parameters"] = text
            output_images.append(image)

    if not infotexts:
        infotexts.append(Processed(p, []).infotext(p, 0))

    index_of_first_image = 0
    unwanted_grid_because_of_img_count = len(output_images) < 2 and shared.opts.grid_only_if_multiple
    if (shared.opts.return_grid or shared.opts.grid_save) and not p.do_not_save_grid and not unwanted_grid_because_of_img_count:
        grid = images.image_grid(output_images, p.batch_size)
        if shared.opts.return_grid:
            text = infotext(use_main_prompt=True)
            infotexts.insert(0, text)
            if shared.opts.enable_pnginfo:
                grid.info["parameters"] = text
            output_images.insert(0, grid)
            index_of_first_image = 1

    res = Processed(
        p,
        images_list=output_images,
        seed=p.all_seeds[0],
        info=infotexts[0],
        subseed=p.all_subseeds[0],
        index_of_first_image=index_of_first_image,
        infotexts=infotexts,
    )

    if p.scripts is not None:
        p.scripts.postprocess(p, res)

    return res
