"""`POST /agiqa/verdict`: the agiqa bridge (`agiqa serve --comfyui URL`) posts each verdict here
(VerdictPush in the server's src/bridges/comfyui/feedback.ts); it is forwarded to every browser as
an `agiqa.score` event, which web/js/agiqa.js turns into a badge on the image."""

from __future__ import annotations

import json
import math
from typing import Any, Callable, Dict, List, Tuple

ROUTE = "/agiqa/verdict"
EVENT = "agiqa.score"
MAX_BODY_BYTES = 256 * 1024

_STRINGS = ("prompt_id", "node", "filename", "subfolder", "type", "level")


class VerdictError(ValueError):
    pass


def validate_verdict(body: Any) -> Dict[str, Any]:
    """The verdict's known fields, checked; unknown fields are dropped so the browser gets a fixed shape."""
    if not isinstance(body, dict):
        raise VerdictError("the body must be a JSON object")
    problems: List[str] = []
    payload: Dict[str, Any] = {}
    for key in _STRINGS:
        value = body.get(key)
        if not isinstance(value, str):
            problems.append(f"{key} must be a string")
        payload[key] = value
    if isinstance(payload.get("filename"), str) and not payload["filename"]:
        problems.append("filename must not be empty")
    batch_index = body.get("batch_index")
    if not _is_int(batch_index) or batch_index < 0:
        problems.append("batch_index must be a whole number ≥ 0")
    payload["batch_index"] = batch_index
    rank = body.get("rank")
    if rank is not None and (not _is_int(rank) or rank < 1):
        problems.append("rank must be a whole number ≥ 1 or null")
    payload["rank"] = rank
    generation_id = body.get("generation_id")
    if not _is_int(generation_id):
        problems.append("generation_id must be a whole number")
    payload["generation_id"] = generation_id
    verdict = body.get("verdict")
    if verdict not in ("accept", "reject"):
        problems.append('verdict must be "accept" or "reject"')
    payload["verdict"] = verdict
    reasons = body.get("reasons")
    if not isinstance(reasons, list) or not all(isinstance(reason, str) for reason in reasons):
        problems.append("reasons must be a list of strings")
    payload["reasons"] = reasons
    mos = body.get("mos")
    if not _is_number(mos):
        problems.append("mos must be a number")
    payload["mos"] = mos
    aspects = body.get("aspects")
    if not isinstance(aspects, dict) or not all(
        isinstance(name, str) and (value is None or _is_number(value)) for name, value in aspects.items()
    ):
        problems.append("aspects must map aspect names to numbers or null")
    payload["aspects"] = aspects
    if problems:
        raise VerdictError("; ".join(problems))
    return payload


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


def register(prompt_server: Any) -> None:
    """Adds the route to ComfyUI's aiohttp server (ComfyUI also serves it under /api)."""
    from aiohttp import web

    async def post_verdict(request: Any) -> Any:
        raw = await request.read()  # bounded by aiohttp's client_max_size (ComfyUI sets it)
        status, answer = handle_verdict_body(raw, prompt_server.send_sync)
        return web.json_response(answer, status=status)

    prompt_server.routes.post(ROUTE)(post_verdict)


def _error(code: str, message: str) -> Dict[str, Any]:
    return {"error": {"code": code, "message": message}}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
