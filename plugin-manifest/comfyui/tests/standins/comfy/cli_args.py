"""Stand-in for ComfyUI's parsed command line; tests flip disable_metadata."""

import types

args = types.SimpleNamespace(disable_metadata=False)
