"""Stand-in: an output that blocks the nodes reading it (silently when message is None)."""


class ExecutionBlocker:
    def __init__(self, message):
        self.message = message
