"""Stand-in for ComfyUI's server module: PromptServer.instance with a route table and send_sync,
both recording what the pack does with them."""


class _Routes:
    def __init__(self):
        self.handlers = {}

    def _add(self, method, path):
        def decorator(handler):
            self.handlers[(method, path)] = handler
            return handler

        return decorator

    def post(self, path):
        return self._add("POST", path)

    def get(self, path):
        return self._add("GET", path)


class PromptServer:
    instance = None

    def __init__(self):
        self.routes = _Routes()
        self.sent = []
        PromptServer.instance = self

    def send_sync(self, event, data, sid=None):
        self.sent.append((event, data, sid))


PromptServer()
