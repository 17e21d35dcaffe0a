"""The HTTP client for the local agiqa server (stdlib only: ComfyUI gains no dependency).

Where the server is: AGIQA_URL (default http://127.0.0.1:8420); its token, if it has one: AGIQA_TOKEN.
Every failure becomes an AgiqaError whose message is one line a ComfyUI user can act on.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
import urllib.error
import urllib.request
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple, Union

DEFAULT_URL = "http://127.0.0.1:8420"
START_COMMAND = "npx agiqa serve"
# The server takes at most this many images per /v1/rank request (MAX_RANK_IMAGES in its schemas),
# and admits at most queue.capacity images at once (GET /v1/health): batches are sent in slices of both.
MAX_RANK_IMAGES = 64
# Answers worth waiting out are the ones the server marks with Retry-After (a busy queue, a pack still
# loading, a locked database, a restart); anything else is reported at once.
RETRY_BUDGET_SECONDS = 120.0
# Scoring runs on the CPU; a full batch on a busy machine can take a while.
RANK_TIMEOUT_SECONDS = 300.0
# The server's capacity is asked once per this many seconds per URL, not before every batch: a stale
# figure costs nothing (the server scores a larger batch in slices of its own).
CAPACITY_TTL_SECONDS = 30.0
_capacity_cache: Dict[str, Tuple[float, int]] = {}


class AgiqaError(RuntimeError):
    """A failure talking to the agiqa server; str() is the one line shown in ComfyUI."""


class AgiqaServerUnavailable(AgiqaError):
    """Nothing answers at the configured URL."""


def server_url() -> str:
    return (os.environ.get("AGIQA_URL") or DEFAULT_URL).rstrip("/")


def unavailable_message(url: str) -> str:
    return (
        f"agiqa: no scoring server at {url} — start it with `{START_COMMAND}` "
        f"(or `agiqa serve` if installed globally), or set AGIQA_URL to where it runs"
    )


class AgiqaClient:
    def __init__(self, url: Optional[str] = None, token: Optional[str] = None, retry_budget: float = RETRY_BUDGET_SECONDS) -> None:
        self.url = (url or server_url()).rstrip("/")
        self.token = token if token is not None else os.environ.get("AGIQA_TOKEN") or None
        self.retry_budget = retry_budget
        # How many times a busy or loading server was waited out (for tests and the report).
        self.retries = 0

    def rank_frames(
        self,
        frames: Any,
        prompt: Optional[str] = None,
        text: Optional[Dict[str, str]] = None,
        node: Optional[str] = None,
        limit: Optional[int] = None,
        prompt_id: Optional[str] = None,
    ) -> List[Dict[str, Any]]:
        """Scores raw 8-bit frames as batches of /v1/rank; one item per frame, in input order. `frames` is
        a tensors.Frames (converted one by one as the body streams out: the server reads frame 1 while
        frame 2 is converted) or a [B,H,W,C] uint8 array. `text` is the metadata a saved PNG would carry
        ({"prompt": graph JSON}), from which the server recovers the prompt when none is given. `prompt_id`
        and `node` (ComfyUI's prompt and node ids) are stored with every generation of the batch."""
        source = frames if hasattr(frames, "frame") else _ArrayFrames(frames)
        count, height, width, channels = source.count, source.height, source.width, source.channels
        fields: Dict[str, str] = {"source": "comfyui-node", "width": str(width), "height": str(height), "channels": str(channels)}
        if prompt:
            fields["prompt"] = prompt
        if text:
            fields["text"] = json.dumps(text)
        if prompt_id:
            fields["promptId"] = prompt_id[:200]
        if node:
            fields["node"] = node[:200]
        items: List[Dict[str, Any]] = []
        limit = limit or self.batch_limit()
        for start in range(0, count, limit):
            end = min(count, start + limit)
            files = [(f"comfyui-node{'-' + node if node else ''}-{index}.raw", index) for index in range(start, end)]
            body = _StreamedMultipart(fields, "pixels", files, source.frame_bytes, lambda index: memoryview(source.frame(index)).cast("B"))
            answer = self._request("POST", "/v1/rank", body, RANK_TIMEOUT_SECONDS, body.content_type)
            answered = answer.get("items") if isinstance(answer, dict) else None
            if not isinstance(answered, list) or len(answered) != end - start:
                raise AgiqaError(f"agiqa: unexpected answer from {self.url}/v1/rank (not one item per image)")
            for item in answered:
                item = dict(item)
                item["index"] = start + int(item["index"])
                items.append(item)
        items.sort(key=lambda item: item["index"])
        return items

    def verdicts(self, files: Sequence[Dict[str, str]]) -> List[Optional[Dict[str, Any]]]:
        """The stored verdicts of ComfyUI files ({filename, subfolder, type}), in order; None where unknown."""
        answer = self._post_json("/v1/comfyui/verdicts", {"files": list(files)}, timeout=10.0)
        return list(answer.get("verdicts", []))

    def link_file(self, generation_id: int, filename: str, file: Optional[str] = None) -> Dict[str, Any]:
        """Links the file a scored image was saved as to its generation (PUT /v1/generations/{id}/file)."""
        body: Dict[str, Any] = {"filename": filename}
        if file:
            body["file"] = file
        return self._request("PUT", f"/v1/generations/{int(generation_id)}/file", json.dumps(body).encode("utf-8"), 10.0)

    def health(self) -> Dict[str, Any]:
        return self._request("GET", "/v1/health", None, 10.0)

    def batch_limit(self) -> int:
        """Images per /v1/rank request: the server's admission capacity, at most 64 (asked at most once
        per CAPACITY_TTL_SECONDS per URL). A server that is not running fails here, before any image is
        converted for it, unless it answered within that time (then the upload finds it gone)."""
        known = _capacity_cache.get(self.url)
        if known is not None and time.monotonic() - known[0] < CAPACITY_TTL_SECONDS:
            return known[1]
        capacity = None
        try:
            queue = self.health().get("queue") or {}
            capacity = queue.get("capacity")
        except AgiqaServerUnavailable:
            _capacity_cache.pop(self.url, None)
            raise
        except AgiqaError:
            pass  # still loading (503): the default, and the rank request waits for it to be ready
        if not isinstance(capacity, int) or capacity < 1:
            return 32
        limit = max(1, min(MAX_RANK_IMAGES, capacity))
        _capacity_cache[self.url] = (time.monotonic(), limit)
        return limit

    # -- transport ---------------------------------------------------------------------------

    def _post_json(self, path: str, body: Dict[str, Any], timeout: float) -> Dict[str, Any]:
        return self._request("POST", path, json.dumps(body).encode("utf-8"), timeout)

    def _request(self, method: str, path: str, data: "Optional[Union[bytes, _StreamedMultipart]]", timeout: float, content_type: str = "application/json") -> Dict[str, Any]:
        deadline = time.monotonic() + self.retry_budget
        while True:
            # A new request per attempt: a streamed body is produced again (its frames converted again).
            body = data.chunks() if isinstance(data, _StreamedMultipart) else data
            request = urllib.request.Request(self.url + path, data=body, method=method)
            if data is not None:
                request.add_header("Content-Type", content_type)
            if isinstance(data, _StreamedMultipart):
                request.add_header("Content-Length", str(data.length))
            if self.token:
                request.add_header("Authorization", f"Bearer {self.token}")
            try:
                return self._send(request, path, timeout)
            except _Retryable as busy:
                wait = min(5.0, max(0.5, busy.retry_after))
                if time.monotonic() + wait > deadline:
                    raise AgiqaError(f"{busy.message} (still busy after {self.retry_budget:.0f} s)") from None
                self.retries += 1
                time.sleep(wait)

    def _send(self, request: urllib.request.Request, path: str, timeout: float) -> Dict[str, Any]:
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as error:
            code, message = _error_body(error)
            line = _http_error_message(self.url, path, error.code, code, message)
            if error.code == 503 and error.headers.get("Retry-After") is not None:
                raise _Retryable(line, _retry_after(error)) from None
            raise AgiqaError(line) from None
        except urllib.error.URLError as error:  # urllib wraps failures while connecting
            raise self._transport_failure(path, timeout, error.reason) from None
        except (socket.timeout, TimeoutError, ConnectionError) as error:  # ... but not those mid-exchange
            raise self._transport_failure(path, timeout, error) from None
        except json.JSONDecodeError:
            raise AgiqaError(f"agiqa: {self.url}{path} answered something that is not JSON — is AGIQA_URL an agiqa server?") from None

    def _transport_failure(self, path: str, timeout: float, reason: Any) -> Exception:
        if isinstance(reason, (socket.timeout, TimeoutError)):
            return AgiqaError(f"agiqa: {self.url}{path} did not answer within {timeout:.0f} s")
        if isinstance(reason, _CUT_OFF):
            # A server that answered early (busy) may close while the upload is still going: retry.
            return _Retryable(f"agiqa: {self.url}{path}: the connection was cut off ({reason})", 0.5)
        # Refused, unknown host, unreachable network: the server is not running where we look.
        return AgiqaServerUnavailable(unavailable_message(self.url))


class _StreamedMultipart:
    """A multipart/form-data body of text fields then one part per frame, sent as it is produced: each
    frame is converted (`frame_of(index)`) only when the socket is ready for it, and goes out from its
    own memory (no joined copy of the batch). Each frame is followed at once by the delimiter that closes
    it, before the next frame is converted: the server starts scoring a frame as soon as it knows the
    frame is complete. The length is known before any frame exists."""

    def __init__(self, fields: Dict[str, str], file_field: str, files: Sequence[Tuple[str, int]], frame_bytes: int, frame_of: Callable[[int], memoryview]) -> None:
        self.boundary = f"agiqa-{uuid.uuid4().hex}"
        delimiter = f"--{self.boundary}".encode("utf-8")
        # Every part but the first opens right after the delimiter that closed the one before it.
        self.head = delimiter + b"".join(
            f'\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n'.encode("utf-8") + value.encode("utf-8") + b"\r\n" + delimiter
            for key, value in fields.items()
        )
        self.parts = [
            (
                f'\r\nContent-Disposition: form-data; name="{file_field}"; filename="{filename}"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n".encode("utf-8"),
                index,
            )
            for filename, index in files
        ]
        self.closing = b"\r\n" + delimiter
        self.tail = b"--\r\n"
        self.frame_bytes = frame_bytes
        self.frame_of = frame_of
        self.length = len(self.head) + sum(len(header) + frame_bytes + len(self.closing) for header, _ in self.parts) + len(self.tail)

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    def chunks(self) -> Iterator[Union[bytes, memoryview]]:
        yield self.head
        for header, index in self.parts:
            frame = self.frame_of(index)
            if frame.nbytes != self.frame_bytes:
                raise ValueError(f"frame {index} has {frame.nbytes} bytes, expected {self.frame_bytes}")
            yield header
            yield frame
            yield self.closing
        yield self.tail


class _ArrayFrames:
    """Frames already converted: a [B,H,W,C] uint8 array."""

    def __init__(self, frames: Any) -> None:
        self.count, self.height, self.width, self.channels = (int(size) for size in frames.shape)
        self.frame_bytes = self.height * self.width * self.channels
        self._frames = frames

    def frame(self, index: int) -> Any:
        return self._frames[index]


# A connection the server reset or closed mid-request: it is running, so this is worth a retry.
_CUT_OFF = (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)


class _Retryable(Exception):
    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after = retry_after


def _retry_after(error: urllib.error.HTTPError) -> float:
    try:
        return float(error.headers.get("Retry-After", "1"))
    except (TypeError, ValueError):
        return 1.0


def _error_body(error: urllib.error.HTTPError) -> Tuple[Optional[str], Optional[str]]:
    """The server's `{error: {code, message}}`, when the body is one."""
    try:
        body = json.loads(error.read().decode("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None, None
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        code, message = body["error"].get("code"), body["error"].get("message")
        return (code if isinstance(code, str) else None), (message if isinstance(message, str) else None)
    return None, None


def _http_error_message(url: str, path: str, status: int, code: Optional[str], message: Optional[str]) -> str:
    """The server's own message and code as one line."""
    if not message:
        return f"agiqa: {url}{path} answered HTTP {status} — is AGIQA_URL an agiqa server?"
    line = " ".join(message.split())
    hint = " (set AGIQA_TOKEN to the server's token)" if status == 401 else ""
    return f"agiqa server: {line}{hint} [{code or status}]"
