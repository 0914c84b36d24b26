"""The response envelope: ``{"success", "version", "data" | "error"}`` as JSON responses."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from starlette.responses import Response

from .errors import ApiError

__all__ = ["JSON_MEDIA_TYPE", "error_response", "no_content", "ok_response"]

JSON_MEDIA_TYPE = "application/json"
_dumps = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode


def _json(status_code: int, payload: dict[str, Any], headers: Mapping[str, str] | None) -> Response:
    """Compact UTF-8 JSON response (same encoding as Starlette's JSONResponse, less overhead)."""
    return Response(_dumps(payload).encode(), status_code, headers=headers, media_type=JSON_MEDIA_TYPE)


def ok_response(version: str, data: Any, status_code: int = 200) -> Response:
    """Success envelope around ``data``."""
    return _json(status_code, {"success": True, "version": version, "data": data}, None)


def error_response(version: str | None, error: ApiError, headers: Mapping[str, str] | None = None) -> Response:
    """Error envelope for ``error``; ``version`` is ``None`` outside any ``/api/vN`` prefix."""
    payload = {"success": False, "version": version, "error": error.payload()}
    return _json(error.status_code, payload, headers)


def no_content() -> Response:
    """Empty 204 response (successful DELETE)."""
    return Response(status_code=204)
