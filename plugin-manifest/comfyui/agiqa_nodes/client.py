"""The HTTP client for the local agiqa server (stdlib only: ComfyUI gains no dependency).

Where the server is: AGIQA_URL (default http://127.0.0.1:8420); its token, if it has one: AGIQA_TOKEN.
Every failure becomes an AgiqaError whose message is one line a ComfyUI user can act on.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import urllib.error
import urllib.request
from typing import Any, Dict, List, Optional, Sequence

DEFAULT_URL = "http://127.0.0.1:8420"
START_COMMAND = "npx agiqa serve"
# The server takes at most this many images per /v1/rank request (MAX_RANK_IMAGES in its schemas).
MAX_RANK_IMAGES = 64
# Scoring runs on the CPU; a full batch on a busy machine can take a while.
RANK_TIMEOUT_SECONDS = 300.0


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
    def __init__(self, url: Optional[str] = None, token: Optional[str] = None) -> None:
        self.url = (url or server_url()).rstrip("/")
        self.token = token if token is not None else os.environ.get("AGIQA_TOKEN") or None

    def rank(
        self,
        pngs: Sequence[bytes],
        prompt: Optional[str] = None,
        node: Optional[str] = None,
    ) -> List[Dict[str, Any]]:
        """Scores images that share a prompt as batches of /v1/rank; one item per image, in input order.

        Each item is the server's rank item: {index, rank, generationId, cached, result, verdict}, with
        `index` into `pngs` (batches over 64 are sent in slices and re-indexed).
        """
        items: List[Dict[str, Any]] = []
        for start in range(0, len(pngs), MAX_RANK_IMAGES):
            chunk = pngs[start : start + MAX_RANK_IMAGES]
            body: Dict[str, Any] = {
                "source": "comfyui-node",
                "images": [
                    _image_entry(png, f"comfyui-node{'-' + node if node else ''}-{start + offset}.png", node)
                    for offset, png in enumerate(chunk)
                ],
            }
            if prompt:
                body["prompt"] = prompt
            answer = self._post_json("/v1/rank", body, RANK_TIMEOUT_SECONDS)
            answered = answer.get("items") if isinstance(answer, dict) else None
            if not isinstance(answered, list) or len(answered) != len(chunk):
                raise AgiqaError(f"agiqa: unexpected answer from {self.url}/v1/rank (not one item per image)")
            for item in answered:
                item = dict(item)
                item["index"] = start + int(item["index"])
                items.append(item)
        items.sort(key=lambda item: item["index"])
        return items

    def health(self) -> Dict[str, Any]:
        return self._request("GET", "/v1/health", None, 10.0)

    # -- transport ---------------------------------------------------------------------------

    def _post_json(self, path: str, body: Dict[str, Any], timeout: float) -> Dict[str, Any]:
        return self._request("POST", path, json.dumps(body).encode("utf-8"), timeout)

    def _request(self, method: str, path: str, data: Optional[bytes], timeout: float) -> Dict[str, Any]:
        request = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as error:
            raise AgiqaError(_http_error_message(self.url, path, error)) from None
        except urllib.error.URLError as error:
            reason = error.reason
            if isinstance(reason, (socket.timeout, TimeoutError)):
                raise AgiqaError(f"agiqa: {self.url}{path} did not answer within {timeout:.0f} s") from None
            # Refused, unknown host, unreachable network: the server is not running where we look.
            raise AgiqaServerUnavailable(unavailable_message(self.url)) from None
        except (socket.timeout, TimeoutError):
            raise AgiqaError(f"agiqa: {self.url}{path} did not answer within {timeout:.0f} s") from None
        except ConnectionError:
            raise AgiqaServerUnavailable(unavailable_message(self.url)) from None
        except json.JSONDecodeError:
            raise AgiqaError(f"agiqa: {self.url}{path} answered something that is not JSON — is AGIQA_URL an agiqa server?") from None


def _image_entry(png: bytes, name: str, node: Optional[str]) -> Dict[str, Any]:
    entry: Dict[str, Any] = {"image": base64.b64encode(png).decode("ascii"), "name": name}
    if node:
        entry["external"] = {"node": node}
    return entry


def _http_error_message(url: str, path: str, error: urllib.error.HTTPError) -> str:
    """The server's own `{error: {code, message}}` when it sent one, as one line."""
    raw = b""
    try:
        raw = error.read()
    except OSError:
        pass
    code = message = None
    try:
        body = json.loads(raw.decode("utf-8"))
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            code = body["error"].get("code")
            message = body["error"].get("message")
    except (UnicodeDecodeError, json.JSONDecodeError):
        pass
    if not message:
        return f"agiqa: {url}{path} answered HTTP {error.code} — is AGIQA_URL an agiqa server?"
    line = " ".join(str(message).split())
    hint = ""
    if error.code == 401:
        hint = " (set AGIQA_TOKEN to the server's token)"
    return f"agiqa server: {line}{hint} [{code or error.code}]"
