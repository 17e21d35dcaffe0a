"""AGIQA nodes for ComfyUI: scores from the local agiqa server (`npx agiqa serve`)."""

from .nodes import NODE_CLASS_MAPPINGS, NODE_DISPLAY_NAME_MAPPINGS

__all__ = ["NODE_CLASS_MAPPINGS", "NODE_DISPLAY_NAME_MAPPINGS", "register_routes"]


def register_routes() -> bool:
    """Adds POST /agiqa/verdict to ComfyUI's server; False outside ComfyUI (no `server` module)."""
    try:
        from server import PromptServer
    except ImportError:
        return False
    instance = getattr(PromptServer, "instance", None)
    if instance is None:
        return False
    from .routes import register

    register(instance)
    return True
