"""Stand-in: the exception ComfyUI treats as a quiet interruption of the run."""


class InterruptProcessingException(Exception):
    pass
