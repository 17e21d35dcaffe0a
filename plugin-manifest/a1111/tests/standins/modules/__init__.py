"""Stand-ins for the parts of AUTOMATIC1111's `modules` package the AGIQA extension touches.

They keep the real names, signatures and call order (scripts.py, processing.py, images.py of
stable-diffusion-webui 1.10 / Forge) but no model: `shared.sd_model` is a test-supplied function from
(prompt, seed) to a picture. No gradio; no code is copied from the web UI.
"""
