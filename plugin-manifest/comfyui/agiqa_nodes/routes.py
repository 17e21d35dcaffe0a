"""`POST /agiqa/verdict`: the agiqa bridge (`agiqa serve --comfyui URL`) posts each verdict here
(VerdictPush in the server's src/bridges/comfyui/feedback.ts); it is forwarded to every browser as
an `agiqa.score` event, which web/js/agiqa.js turns into a badge on the image.

`POST /agiqa/verdicts`: the browser asks, in one request, for the stored verdicts of the files it shows
(after a reload, or when ComfyUI serves outputs from its cache); forwarded to the agiqa server's
`POST /v1/comfyui/verdicts` and answered in the `agiqa.score` shape."""

from __future__ import annotations

import json
import math
from typing import Any, Callable, Dict, List, Optional, Tuple

from .client import AgiqaClient, AgiqaError

ROUTE = "/agiqa/verdict"
LOOKUP_ROUTE = "/agiqa/verdicts"
MAX_LOOKUP_FILES = 500
EVENT = "agiqa.score"
MAX_BODY_BYTES = 256 * 1024


class VerdictError(ValueError):
    pass


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_aspects(value: Any) -> bool:
    return isinstance(value, dict) and all(
        isinstance(name, str) and (score is None or _is_number(score)) for name, score in value.items()
    )


# Every field of VerdictPush with its check, in the order problems are reported. `filename` is listed
# twice: an empty name is its own problem, reported after the type checks of all the strings.
_CHECKS: Tuple[Tuple[str, Callable[[Any], bool], str], ...] = (
    *((key, _is_str, "must be a string") for key in ("prompt_id", "node", "filename", "subfolder", "type", "level")),
    ("filename", lambda value: not isinstance(value, str) or value != "", "must not be empty"),
    ("batch_index", lambda value: _is_int(value) and value >= 0, "must be a whole number ≥ 0"),
    ("rank", lambda value: value is None or (_is_int(value) and value >= 1), "must be a whole number ≥ 1 or null"),
    ("generation_id", _is_int, "must be a whole number"),
    ("verdict", lambda value: value in ("accept", "reject"), 'must be "accept" or "reject"'),
    ("reasons", lambda value: isinstance(value, list) and all(map(_is_str, value)), "must be a list of strings"),
    ("mos", _is_number, "must be a number"),
    ("aspects", _is_aspects, "must map aspect names to numbers or null"),
)


def validate_verdict(body: Any) -> Dict[str, Any]:
    """The verdict's known fields, checked; unknown fields are dropped so the browser gets a fixed shape."""
    if not isinstance(body, dict):
        raise VerdictError("the body must be a JSON object")
    problems = [f"{key} {message}" for key, is_valid, message in _CHECKS if not is_valid(body.get(key))]
    if problems:
        raise VerdictError("; ".join(problems))
    return {key: body.get(key) for key, _, _ in _CHECKS}


def handle_verdict_body(raw: bytes, send_sync: Callable[..., Any]) -> Tuple[int, Dict[str, Any]]:
    """Status and JSON answer for one request body; forwards a valid verdict to every browser."""
    if len(raw) > MAX_BODY_BYTES:
        return 413, _error("AGIQA_VERDICT_TOO_LARGE", f"the body is over {MAX_BODY_BYTES} bytes")
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        return 400, _error("AGIQA_VERDICT_INVALID", f"the body is not JSON: {error}")
    try:
        payload = validate_verdict(body)
    except VerdictError as error:
        return 400, _error("AGIQA_VERDICT_INVALID", f"not an agiqa verdict: {error}")
    send_sync(EVENT, payload)  # no sid: every connected browser
    return 200, {"ok": True, "event": EVENT}


def validate_files(body: Any) -> List[Dict[str, str]]:
    """The files of a lookup body, {filename, subfolder, type} each; raises VerdictError naming every problem."""
    files = body.get("files") if isinstance(body, dict) else None
    if not isinstance(files, list) or not 1 <= len(files) <= MAX_LOOKUP_FILES:
        raise VerdictError(f"files must be a list of 1 to {MAX_LOOKUP_FILES} files")
    problems = []
    out = []
    for index, item in enumerate(files):
        if not isinstance(item, dict) or not isinstance(item.get("filename"), str) or item["filename"] == "":
            problems.append(f"files[{index}].filename must be a non-empty string")
            continue
        subfolder, kind = item.get("subfolder", ""), item.get("type", "output")
        if not isinstance(subfolder, str) or not isinstance(kind, str):
            problems.append(f"files[{index}].subfolder and .type must be strings")
            continue
        out.append({"filename": item["filename"], "subfolder": subfolder, "type": kind})
    if problems:
        raise VerdictError("; ".join(problems))
    return out


def handle_lookup_body(raw: bytes, lookup: Callable[[List[Dict[str, str]]], List[Optional[Dict[str, Any]]]]) -> Tuple[int, Dict[str, Any]]:
    """Status and JSON answer for one lookup body; `lookup` asks the agiqa server (AgiqaClient.verdicts)."""
    if len(raw) > MAX_BODY_BYTES:
        return 413, _error("AGIQA_LOOKUP_TOO_LARGE", f"the body is over {MAX_BODY_BYTES} bytes")
    try:
        files = validate_files(json.loads(raw.decode("utf-8")))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        return 400, _error("AGIQA_LOOKUP_INVALID", f"the body is not JSON: {error}")
    except VerdictError as error:
        return 400, _error("AGIQA_LOOKUP_INVALID", str(error))
    try:
        found = lookup(files)
    except AgiqaError as error:
        return 503, _error("AGIQA_SERVER_UNAVAILABLE", str(error))
    verdicts = []
    for file, stored in zip(files, found):
        if not isinstance(stored, dict):
            verdicts.append(None)
            continue
        verdict = stored.get("verdict")
        verdicts.append(
            {
                **file,
                "generation_id": stored.get("generationId"),
                "rank": stored.get("rank"),
                "mos": stored.get("mos"),
                "level": stored.get("level"),
                "verdict": verdict.get("verdict") if isinstance(verdict, dict) else None,
                # The object detector's boxes, in the pixels of `image` (the badge can draw them on the preview).
                "image": stored.get("image"),
                "detections": stored.get("detections") if isinstance(stored.get("detections"), list) else [],
            }
        )
    return 200, {"verdicts": verdicts}


def register(prompt_server: Any) -> None:
    """Adds the routes to ComfyUI's aiohttp server (ComfyUI also serves them under /api)."""
    import asyncio

    from aiohttp import web

    async def post_verdict(request: Any) -> Any:
        raw = await request.read()  # bounded by aiohttp's client_max_size (ComfyUI sets it)
        status, answer = handle_verdict_body(raw, prompt_server.send_sync)
        return web.json_response(answer, status=status)

    prompt_server.routes.post(ROUTE)(post_verdict)

    async def post_lookup(request: Any) -> Any:
        raw = await request.read()
        # urllib blocks: the lookup runs on a thread so ComfyUI's event loop keeps serving.
        loop = asyncio.get_running_loop()
        status, answer = await loop.run_in_executor(None, handle_lookup_body, raw, lambda files: AgiqaClient(retry_budget=2.0).verdicts(files))
        return web.json_response(answer, status=status)

    prompt_server.routes.post(LOOKUP_ROUTE)(post_lookup)


def _error(code: str, message: str) -> Dict[str, Any]:
    return {"error": {"code": code, "message": message}}

