"""AGIQA for AUTOMATIC1111/Forge: scores each generated image with a local `agiqa serve`.

Thin on purpose: the scoring runs in the server; this package is stdlib + the PIL and numpy the web UI
already has.
"""

from .client import DEFAULT_URL, START_COMMAND, AgiqaClient, Score, ScoringError, ServerRefused, ServerUnavailable, default_url
from .policy import MODE_DROP, MODE_REORDER, MODE_SCORE, MODES, Settings, judge, plan_batch
from .run import ScoringRun

__all__ = [
    "AgiqaClient", "DEFAULT_URL", "MODES", "MODE_DROP", "MODE_REORDER", "MODE_SCORE", "START_COMMAND", "Score",
    "ScoringError", "ScoringRun", "ServerRefused", "ServerUnavailable", "Settings", "default_url", "judge", "plan_batch",
]
