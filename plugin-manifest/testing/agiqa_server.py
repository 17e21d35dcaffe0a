"""A real `agiqa serve` process for the plugins' Python tests (stdlib only).

    with AgiqaServer() as server:
        urllib.request.urlopen(server.url + "/v1/health")

Starts `node <repo>/bin/agiqa.js serve --port 0` (the entry that runs dist/cli/main.js) with a throwaway AGIQA_HOME, waits for the
"listening on" line (printed once the socket is bound), then polls /v1/health until the pack is
loaded. The plugins talk to the server exactly as they would in ComfyUI or A1111, so nothing here
stands in for the scorer.
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from pathlib import Path
from typing import Mapping, Optional, Sequence

REPO_ROOT = Path(__file__).resolve().parents[2]
CLI_ENTRY = REPO_ROOT / "bin" / "agiqa.js"
COMPILED_CLI = REPO_ROOT / "dist" / "cli" / "main.js"  # bin/agiqa.js imports it; it only exports main()
_LISTENING = re.compile(r"agiqa serve: listening on (http://\S+)")


class AgiqaServerError(RuntimeError):
    """The server could not be started (missing build, early exit, or timeout)."""


class AgiqaServer:
    """Context manager owning one `agiqa serve` process; exposes `.url` and `.home`.

    `env` is merged over the current environment minus its AGIQA_* variables, `args` are appended to `serve`,
    `token` sets AGIQA_TOKEN for the server. The home directory is removed on exit unless `home`
    was given by the caller.
    """

    def __init__(
        self,
        *,
        args: Sequence[str] = (),
        env: Optional[Mapping[str, str]] = None,
        token: Optional[str] = None,
        home: Optional[str] = None,
        startup_timeout: float = 90.0,
        node: str = "node",
    ) -> None:
        self.args = list(args)
        self.extra_env = dict(env or {})
        self.token = token
        self.startup_timeout = startup_timeout
        self.node = node
        self._own_home = home is None
        self.home = home or ""
        self.url = ""
        self.process: Optional[subprocess.Popen] = None
        self._pumps: list[threading.Thread] = []
        self._stderr_tail: deque[str] = deque(maxlen=40)
        self._stdout_lines: "queue.Queue[Optional[str]]" = queue.Queue()

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> "AgiqaServer":
        if not COMPILED_CLI.is_file():
            raise AgiqaServerError(
                f"{COMPILED_CLI} is missing: run `npm run build` in {REPO_ROOT} first"
            )
        if self._own_home:
            self.home = tempfile.mkdtemp(prefix="agiqa-plugin-test-")
        # The caller's AGIQA_* settings (config, pack, token, port) must not leak into the test
        # server; everything else (PATH, NODE_OPTIONS, …) passes through.
        env = {key: value for key, value in os.environ.items() if not key.startswith("AGIQA_")}
        env["AGIQA_LOG_LEVEL"] = "warn"
        env.update(self.extra_env)
        env["AGIQA_HOME"] = self.home
        if self.token is not None:
            env["AGIQA_TOKEN"] = self.token
        command = [self.node, str(CLI_ENTRY), "serve", "--port", "0", *self.args]
        self.process = subprocess.Popen(
            command,
            cwd=self.home,  # no stray agiqa.config.json from the caller's directory
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self._pumps = [
            threading.Thread(target=self._pump_stdout, daemon=True),
            threading.Thread(target=self._pump_stderr, daemon=True),
        ]
        for pump in self._pumps:
            pump.start()
        try:
            deadline = time.monotonic() + self.startup_timeout
            self.url = self._wait_for_listening(deadline)
            self._wait_for_ready(deadline)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        process = self.process
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        if process is not None:
            for pump in self._pumps:
                pump.join(timeout=2)
            for stream in (process.stdout, process.stderr):
                if stream is not None:
                    stream.close()
        self.process = None
        if self._own_home and self.home:
            shutil.rmtree(self.home, ignore_errors=True)

    def __enter__(self) -> "AgiqaServer":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def stderr_tail(self) -> str:
        return "".join(self._stderr_tail)

    # -- internals ---------------------------------------------------------------------------

    def _pump_stdout(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        for line in self.process.stdout:
            self._stdout_lines.put(line)
        self._stdout_lines.put(None)

    def _pump_stderr(self) -> None:
        assert self.process is not None and self.process.stderr is not None
        for line in self.process.stderr:
            self._stderr_tail.append(line)

    def _failure(self, what: str) -> AgiqaServerError:
        time.sleep(0.2)  # let the stderr pump catch the last lines
        tail = self.stderr_tail.strip() or "(no stderr)"
        return AgiqaServerError(f"agiqa serve {what}; stderr tail:\n{tail}")

    def _wait_for_listening(self, deadline: float) -> str:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise self._failure(f"printed no 'listening on' line within {self.startup_timeout:.0f}s")
            try:
                line = self._stdout_lines.get(timeout=min(remaining, 0.5))
            except queue.Empty:
                continue
            if line is None:
                code = self.process.wait() if self.process else None
                raise self._failure(f"exited with code {code} before listening")
            match = _LISTENING.search(line)
            if match:
                return match.group(1).rstrip("/")

    def _wait_for_ready(self, deadline: float) -> None:
        last = "no answer"
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                raise self._failure("exited while loading")
            try:
                with urllib.request.urlopen(self.url + "/v1/health", timeout=5) as response:
                    body = json.loads(response.read().decode("utf-8"))
                    if body.get("ready") is True:
                        return
                    last = json.dumps(body)
            except urllib.error.HTTPError as error:  # 503 while the pack loads
                last = f"HTTP {error.code}: {error.read().decode('utf-8', 'replace')[:300]}"
            except (urllib.error.URLError, OSError) as error:
                last = str(error)
            time.sleep(0.2)
        raise self._failure(f"was not ready within {self.startup_timeout:.0f}s (last health: {last})")


__all__ = ["AgiqaServer", "AgiqaServerError", "REPO_ROOT", "CLI_ENTRY", "COMPILED_CLI"]
