"""Request helpers and OpenAPI fragments shared by the API modules (``api`` and its blueprints).

Kept apart from :mod:`api` so that the blueprint modules, which ``api`` imports, can use them
without a circular import.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from flask import g, request

from data.access import ROLE_PERMISSIONS
from data.errors import MalformedInputError, PermissionDeniedError

ERROR_RESPONSE: dict[str, Any] = {
    "description": "error envelope",
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}
"""The OpenAPI response of every error: the JSON error envelope (``components.schemas.Error``)."""


def error_responses(*codes: str) -> dict[str, Any]:
    """Return OpenAPI ``responses`` entries mapping each status code to :data:`ERROR_RESPONSE`."""
    return {code: ERROR_RESPONSE for code in codes}


def query_parameter(name: str, schema: dict[str, Any], description: str = "") -> dict[str, Any]:
    """Return the OpenAPI description of an optional query parameter."""
    return {
        "name": name,
        "in": "query",
        "required": False,
        "schema": schema,
        "description": description,
    }


def require(permission: str) -> None:
    """Refuse roles without ``permission`` before anything is looked up (403, not 404)."""
    role = g.principal.role
    if permission not in ROLE_PERMISSIONS[role]:
        raise PermissionDeniedError(f"role {role.value!r} may not use {permission!r}")


def json_body() -> Any:
    """Return the request's JSON body.

    400 unless it is UTF-8 JSON (a byte-order mark is ignored) sent as application/json and
    nested no deeper than the parser reads.
    """
    if not request.is_json:
        problem = "body: send JSON with Content-Type: application/json"
        raise MalformedInputError(problem, [problem])
    try:
        # utf-8-sig: a byte-order mark is ignored, as RFC 8259 allows (the plan endpoint, which
        # read bodies through Flask, accepted one).
        return json.loads(request.get_data(cache=True).decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        problem = f"body: not valid UTF-8 JSON ({error})"
        raise MalformedInputError(problem, [problem]) from None
    except RecursionError:
        # Arrays nested thousands deep exhaust the parser's recursion (a 500 before).
        problem = "body: JSON nested too deeply to read"
        raise MalformedInputError(problem, [problem]) from None


def query_date(name: str, default: dt.date | None = None) -> dt.date:
    """Return the ``YYYY-MM-DD`` query parameter ``name``.

    400 if it is malformed, or absent without a ``default``.
    """
    raw = request.args.get(name)
    if raw is None:
        if default is not None:
            return default
        raise MalformedInputError(f"{name}: is required", [f"{name}: is required (YYYY-MM-DD)"])
    try:
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", raw):
            raise ValueError(raw)
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise MalformedInputError(
            f"{name}: bad date", [f"{name}: must be YYYY-MM-DD, got {raw!r}"]
        ) from None


def query_province() -> str | None:
    """Return the ``province_code`` query parameter (two digits), or None when absent."""
    raw = request.args.get("province_code")
    if raw is not None and not re.fullmatch(r"[0-9]{2}", raw):
        raise MalformedInputError(
            "province_code: bad code", [f"province_code: must be a two-digit code, got {raw!r}"]
        )
    return raw
