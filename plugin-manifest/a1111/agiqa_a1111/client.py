"""HTTP client of the local `agiqa serve` scoring server (stdlib only, so the extension adds no
dependency to the web UI). It knows `POST /v1/score` with raw 8-bit frames; everything else about scoring
lives in the server.
"""

from __future__ import annotations

import json
import os
import socket
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Optional

DEFAULT_URL = "http://127.0.0.1:8420"
START_COMMAND = "npx agiqa serve"
# The server refuses prompts longer than this (its schema's limit); longer ones are cut, not refused.
MAX_PROMPT_CHARS = 20_000


def default_url() -> str:
    """The server address the UI starts with: $AGIQA_URL, else the server's default address."""
    return (os.environ.get("AGIQA_URL") or DEFAULT_URL).rstrip("/")


class ScoringError(Exception):
    """One image could not be scored; the generation goes on and the image stays unscored."""


class ServerUnavailable(ScoringError):
    """Nothing answers at the address (refused, unreachable, timed out): no point trying the next image."""

    def __init__(self, url: str, detail: str) -> None:
        super().__init__(
            f"AGIQA: no scoring server answers at {url} ({detail}). Start it with `{START_COMMAND}` "
            f"(or set the server URL in the AGIQA accordion); images are left unscored."
        )


class ServerRefused(ScoringError):
    """The server answered with an error for this image, e.g. AGQ_ERR_IMAGE_TOO_LARGE or a missing token."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"AGIQA: the server refused the image: {message} [{code or f'HTTP {status}'}]")
        self.code = code


@dataclass(frozen=True)
class Score:
    """The parts of the server's score result the extension shows and judges on."""

    mos: float
    level: str
    # aspect -> MOS, None when the pack did not judge it (such an aspect is never failed).
    aspects: dict
    pack: str

    @classmethod
    def from_result(cls, result: dict) -> "Score":
        aspects = {}
        for name, aspect in (result.get("aspects") or {}).items():
            mos = aspect.get("mos")
            aspects[name] = None if mos is None else float(mos)
        pack = result.get("pack") or {}
        return cls(
            mos=float(result["mos"]),
            level=str(result.get("level", "")),
            aspects=aspects,
            pack=f"{pack.get('name', '?')} {pack.get('version', '')}".strip(),
        )


class AgiqaClient:
    """Posts an image's raw pixels with their prompt to `POST /v1/score` and returns a `Score`.

    Raises ServerUnavailable when nothing answers, ServerRefused when the server answers with an error.
    """

    def __init__(self, url: str, token: Optional[str] = None, timeout: float = 60.0) -> None:
        self.url = (url or default_url()).strip().rstrip("/")
        self.token = token if token is not None else os.environ.get("AGIQA_TOKEN") or None
        self.timeout = timeout

    def score_frame(self, frame, prompt: str = "", negative_prompt: str = "", name: str = "a1111.raw") -> Score:
        """Scores one RawFrame (images.raw_frame): the pixels as they are, no PNG on either side."""
        fields = {"source": "a1111", "width": str(frame.width), "height": str(frame.height), "channels": str(frame.channels)}
        if prompt:
            fields["prompt"] = prompt[:MAX_PROMPT_CHARS]
        if negative_prompt:
            fields["negativePrompt"] = negative_prompt[:MAX_PROMPT_CHARS]
        body, content_type = _multipart(fields, "pixels", name, frame.data, "application/octet-stream")
        answer = self._post("/v1/score", body, content_type)
        return Score.from_result(answer["result"])

    def score_file(self, data: bytes, prompt: str = "", negative_prompt: str = "", name: str = "a1111.png") -> Score:
        """Scores an encoded image file (PNG, JPEG, …) as it is."""
        fields = {"source": "a1111"}
        if prompt:
            fields["prompt"] = prompt[:MAX_PROMPT_CHARS]
        if negative_prompt:
            fields["negativePrompt"] = negative_prompt[:MAX_PROMPT_CHARS]
        body, content_type = _multipart(fields, "image", name, data, "application/octet-stream")
        answer = self._post("/v1/score", body, content_type)
        return Score.from_result(answer["result"])

    def _post(self, path: str, body: bytes, content_type: str) -> dict:
        # One retry when the server says it is worth it (503 with Retry-After: a full queue after a burst
        # from a big batch, a pack still loading, a locked database); other errors are final.
        for attempt in (1, 2):
            request = urllib.request.Request(self.url + path, data=body, method="POST")
            request.add_header("Content-Type", content_type)
            request.add_header("Accept", "application/json")
            if self.token:
                request.add_header("Authorization", f"Bearer {self.token}")
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    return json.loads(response.read().decode("utf-8"))
            except urllib.error.HTTPError as error:
                status, code, message = _error_body(error)
                if status == 503 and attempt == 1 and error.headers.get("Retry-After") is not None:
                    time.sleep(min(5.0, _retry_after(error)))
                    continue
                if status == 401:
                    message += " — set AGIQA_TOKEN in the web UI's environment to the server's token"
                raise ServerRefused(status, code, message) from error
            except urllib.error.URLError as error:
                if isinstance(error.reason, _CUT_OFF) and attempt == 1:
                    time.sleep(0.5)
                    continue
                raise ServerUnavailable(self.url, _reason(error.reason)) from error
            except (socket.timeout, TimeoutError) as error:
                raise ServerUnavailable(self.url, f"no answer within {self.timeout:.0f} s") from error
            except _CUT_OFF as error:
                # A server that answered early (busy) may close while the upload is still going.
                if attempt == 1:
                    time.sleep(0.5)
                    continue
                raise ServerUnavailable(self.url, _reason(error)) from error
            except OSError as error:  # refused, unreachable, and the other socket errors
                raise ServerUnavailable(self.url, _reason(error)) from error
            except ValueError as error:  # not JSON: something else listens on that port
                raise ServerUnavailable(self.url, f"the answer is not the agiqa API ({error})") from error
        raise AssertionError("unreachable")


# A connection the server reset or closed mid-request: it is running, so one retry is worth it.
_CUT_OFF = (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)


def _multipart(fields: dict, file_field: str, filename: str, data: bytes, mime: str) -> tuple:
    boundary = f"agiqa-{uuid.uuid4().hex}"
    parts = []
    for key, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n'
            f"Content-Type: text/plain; charset=utf-8\r\n\r\n".encode("utf-8") + str(value).encode("utf-8") + b"\r\n"
        )
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; filename="{filename}"\r\n'
        f"Content-Type: {mime}\r\n\r\n".encode("utf-8") + data + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode("utf-8"))
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _error_body(error: urllib.error.HTTPError) -> tuple:
    try:
        payload = json.loads(error.read().decode("utf-8"))
        detail = payload.get("error") or {}
        return error.code, str(detail.get("code", "")), str(detail.get("message", error.reason))
    except (ValueError, AttributeError, OSError):
        return error.code, "", f"HTTP {error.code} {error.reason}"


def _retry_after(error: urllib.error.HTTPError) -> float:
    try:
        return max(0.1, float(error.headers.get("Retry-After", "1")))
    except (TypeError, ValueError):
        return 1.0


def _reason(reason: object) -> str:
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, (socket.timeout, TimeoutError)):
        return "timed out"
    return str(reason)
