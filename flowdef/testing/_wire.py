"""Request/response values passed between the HTTP layer and the API handlers, plus parameter
parsing helpers that fail the way the service does (400 INVALID_PARAMETER_VALUE)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flowdef.testing.state import ApiError, invalid


@dataclass
class Request:
    method: str
    path: str  # as sent, without the query string
    query: dict[str, str]
    body: Any  # parsed JSON, the multipart fields as a dict, or None
    api_version: str = ""  # "2.1"/"2.2" for Jobs endpoints
    params: dict[str, str] = field(default_factory=dict)  # path parameters, e.g. {"job_id": "12"}


@dataclass
class Response:
    status: int = 200
    body: Any = field(default_factory=dict)  # dict -> JSON; bytes -> sent as is
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None


def body_dict(req: Request) -> dict[str, Any]:
    if req.body is None:
        return {}
    if not isinstance(req.body, dict):
        raise ApiError(400, "MALFORMED_REQUEST", "Invalid JSON given in the body of the request - expected a map")
    return req.body


def parse_int(value: Any, name: str) -> int:
    if isinstance(value, bool):
        raise invalid(f"Invalid value for parameter {name}: {value!r} is not an integer.")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise invalid(f"Invalid value for parameter {name}: {value!r} is not an integer.") from None


def need_int(source: dict[str, Any], name: str) -> int:
    if source.get(name) in (None, ""):
        raise invalid(f"Missing required field: {name}")
    return parse_int(source[name], name)


def opt_int(source: dict[str, Any], name: str, default: int | None = None) -> int | None:
    if source.get(name) in (None, ""):
        return default
    return parse_int(source[name], name)


def opt_bool(source: dict[str, Any], name: str) -> bool:
    value = source.get(name)
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    text = str(value).lower()
    if text in ("true", "1"):
        return True
    if text in ("false", "0", ""):
        return False
    raise invalid(f"Invalid value for parameter {name}: {value!r} is not a boolean.")


def encode_token(offset: int) -> str:
    """An opaque page token (the service's are opaque too; don't parse them in client code)."""
    return f"ofs{offset:x}tok"


def decode_token(token: str) -> int:
    if not (token.startswith("ofs") and token.endswith("tok")):
        raise invalid(f"Invalid page token: {token}")
    try:
        return int(token[3:-3], 16)
    except ValueError:
        raise invalid(f"Invalid page token: {token}") from None
