"""What the nodes borrow from ComfyUI, imported only when used, so the package also loads outside
ComfyUI (its tests provide stand-ins) and an older ComfyUI degrades instead of failing to import."""

from __future__ import annotations

from typing import Any, Optional, Tuple


def execution_blocker(message: Optional[str] = None) -> Any:
    """An output that makes ComfyUI skip every node reading it: silently with no message, with
    `message` as the error otherwise. None on a ComfyUI that predates ExecutionBlocker."""
    blocker = _execution_blocker_class()
    return None if blocker is None else blocker(message)


def _execution_blocker_class() -> Any:
    try:
        from comfy_execution.graph_utils import ExecutionBlocker  # ComfyUI ≥ 0.3.x

        return ExecutionBlocker
    except ImportError:
        pass
    try:
        from comfy_execution.graph import ExecutionBlocker  # the execution-inversion releases

        return ExecutionBlocker
    except ImportError:
        return None


def interrupt_quietly(reason: str) -> None:
    """Ends the current run the way ComfyUI's cancel button does: an `execution_interrupted` event,
    no error dialog."""
    from comfy.model_management import InterruptProcessingException

    raise InterruptProcessingException(reason)


def metadata_disabled() -> bool:
    """True when ComfyUI runs with --disable-metadata (then, like SaveImage, no prompt/workflow chunks)."""
    try:
        from comfy.cli_args import args
    except ImportError:
        return False
    return bool(getattr(args, "disable_metadata", False))


def folder_paths() -> Any:
    import folder_paths as module

    return module


def comfy_ids(unique_id: Any) -> Tuple[Optional[str], Optional[str]]:
    """The prompt id and node id of the node running now, as the bridge stores them for its outputs.
    The node id is the hidden UNIQUE_ID input; the prompt id comes from the context ComfyUI sets around
    each node's function (comfy_execution.utils, 0.3.4x and later), else from PromptServer's
    last_prompt_id (set just before a prompt runs). Either is None when this ComfyUI cannot tell."""
    node = None if unique_id is None else str(unique_id)
    prompt_id: Optional[str] = None
    try:
        from comfy_execution.utils import get_executing_context

        context = get_executing_context()
        if context is not None:
            prompt_id = str(context.prompt_id) if context.prompt_id else None
            node = node or (str(context.node_id) if context.node_id else None)
    except ImportError:
        pass
    if prompt_id is None:
        try:
            from server import PromptServer

            last = getattr(PromptServer.instance, "last_prompt_id", None)
            prompt_id = str(last) if last else None
        except ImportError:
            pass
    return prompt_id, node
