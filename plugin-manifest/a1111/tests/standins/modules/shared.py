"""modules.shared stand-in: the options the generation loop reads, the job state and the model."""

from types import SimpleNamespace


class Options(SimpleNamespace):
    pass


def default_options():
    return Options(
        samples_save=True,
        samples_format="png",
        enable_pnginfo=True,
        return_grid=True,
        grid_save=False,
        grid_only_if_multiple=True,
        add_version_to_infotext=False,
        add_user_name_to_info=False,
        add_model_hash_to_info=True,
        add_model_name_to_info=True,
        save_images_before_face_restoration=False,
        CLIP_stop_at_last_layers=1,
        eta_noise_seed_delta=0,
        randn_source="GPU",
    )


opts = default_options()
state = SimpleNamespace(interrupted=False, skipped=False, job_timestamp="20260101000000")
cmd_opts = SimpleNamespace()

# The "model": a function (prompt, seed) -> PIL image, set by each test.
sd_model = None
